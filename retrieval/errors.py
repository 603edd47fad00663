"""Typed errors of the index; messages for users are produced by the server from ``code``."""

from __future__ import annotations


class RetrievalError(Exception):
    """An index operation failed.

    Codes: ``vector_store_unavailable`` (Chroma does not answer), ``embedding_model_mismatch``
    (the corpus was indexed with another embedding model: re-index it), ``invalid_chunks``
    (chunks handed to ``replace_document`` do not belong to the document/version given).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
