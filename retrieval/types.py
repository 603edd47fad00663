"""Plain data objects exchanged between retrieval and the rest of the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from retrieval.errors import RetrievalError

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (``("Pièces à fournir", "Cas particuliers")``)."""

    heading_path: tuple[str, ...]
    text: str
    page: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """A document reduced to its title and ordered sections, whatever its original format."""

    title: str
    sections: list[Section]
    format: str  # "pdf", "docx", "odt", "html", "markdown", "text"


@dataclass(frozen=True)
class Chunk:
    """A passage of one version of one document, as indexed and as shown to users.

    ``text`` is the passage itself; the title and section are kept apart so that the
    indexes can use them as separate signals and the UI can show them as context.
    """

    chunk_id: str
    document_id: str
    version: int
    ordinal: int
    title: str
    section: str
    page: int | None
    text: str


@dataclass(frozen=True)
class Passage:
    """A chunk returned by a search, with the signals that ranked it.

    ``score`` is the fused score in [0, 1] (higher is better); the component scores and
    ranks are kept so that callers (review policy, debugging) can judge how well
    supported a passage is. Ranks are 1-based; ``None`` means the retriever did not
    return the chunk among its candidates.
    """

    chunk: Chunk
    score: float
    lexical_score: float | None
    dense_score: float | None
    lexical_rank: int | None = None
    dense_rank: int | None = None
    title_score: float | None = None
    rerank_score: float | None = None


@dataclass(frozen=True)
class DocumentChunks:
    """The chunks of one version of one document, for ``SearchIndex.replace_documents``."""

    document_id: str
    version: int
    chunks: list[Chunk]

    def validate(self) -> None:
        """Raise ``invalid_chunks`` unless every chunk is of this document and version,
        under an id of its own."""
        ids = [c.chunk_id for c in self.chunks]
        if len(set(ids)) != len(ids):
            raise RetrievalError("invalid_chunks", f"duplicate chunk ids in {self.document_id}")
        for chunk in self.chunks:
            if chunk.document_id != self.document_id or chunk.version != self.version:
                raise RetrievalError(
                    "invalid_chunks",
                    f"chunk {chunk.chunk_id} is not {self.document_id}@{self.version}",
                )

    @staticmethod
    def packed(docs: list[DocumentChunks], size: int) -> Iterator[list[DocumentChunks]]:
        """Whole documents packed into groups of about ``size`` chunks."""
        group: list[DocumentChunks] = []
        count = 0
        for doc in docs:
            if group and count + len(doc.chunks) > size:
                yield group
                group, count = [], 0
            group.append(doc)
            count += len(doc.chunks)
        if group:
            yield group
