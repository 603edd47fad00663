"""A second process writing to a shared index, for the crash and visibility tests.

    python -m tests.retrieval.index_worker ROOT ACTION [MARKER]

Chroma is the test's: embedded under ROOT, or the server and database named by
``GUICHET_CHROMA_URL`` and ``GUICHET_CHROMA_DATABASE``; so is the catalog: the SQLite file
under ROOT, or the database named by ``GUICHET_DATABASE_URL``.

ACTION is ``add-permis``, ``delete-passeport``, or ``crash-<stage>`` where stage is
``embedding``, ``between-batches`` or ``chroma-write``: the worker writes MARKER when it
reaches that stage, then sleeps until the test kills it with SIGKILL.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import retrieval.index
from database import make_engine
from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from tests.retrieval.corpus import chunks_of, many_chunks


def _hang(marker: Path) -> None:
    marker.write_text("reached")
    time.sleep(600)


def main(root: Path, action: str, marker: Path | None) -> None:
    url = os.environ.get("GUICHET_DATABASE_URL")
    index = SearchIndex(
        root=root,
        embedder=Embedder(),
        database=make_engine(url) if url else None,
        chroma_url=os.environ.get("GUICHET_CHROMA_URL"),
        chroma_database=os.environ.get("GUICHET_CHROMA_DATABASE"),
    )
    if action == "add-permis":
        index.replace_document(
            corpus="c", document_id="permis", version=1, chunks=chunks_of("permis")
        )
        return
    if action == "delete-passeport":
        index.delete_document(corpus="c", document_id="passeport")
        return
    assert marker is not None
    retrieval.index.WRITE_BATCH = 4  # several batches for a dozen chunks
    stage = action.removeprefix("crash-")
    progress = None
    if stage == "embedding":
        embed = index.embedder.embed_documents_array
        calls = []

        def slow_embed(texts: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                _hang(marker)
            return embed(texts)

        index.embedder.embed_documents_array = slow_embed  # type: ignore[method-assign]
    elif stage == "between-batches":

        def progress(done: int, total: int) -> None:
            if done >= 8:
                _hang(marker)
    elif stage == "chroma-write":
        upsert = index.vectors.upsert

        def half_upsert(corpus: str, ids: Any, vectors: Any, metadatas: Any) -> None:
            upsert(corpus, ids[:2], vectors[:2], metadatas[:2])
            _hang(marker)

        index.vectors.upsert = half_upsert  # type: ignore[method-assign]
    index.replace_document(
        corpus="c",
        document_id="guide",
        version=2,
        chunks=many_chunks("guide", 2, 12),
        progress=progress,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else None)
