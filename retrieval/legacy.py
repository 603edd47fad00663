"""One-off import of a catalog kept in the former SQLite file under the data folder.

Before the catalog moved into the application's database, it was
``<data folder>/retrieval-catalog.sqlite3``. An instance upgraded in place still has its
vectors in Chroma and its chunk rows in that file: importing them once keeps every
document searchable without re-indexing. The file is then renamed, never read again.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from retrieval.catalog import Catalog
from retrieval.types import Chunk

logger = logging.getLogger(__name__)

LEGACY_NAME = "retrieval-catalog.sqlite3"
_ROWS = 5_000


def import_legacy_catalog(*, catalog: Catalog, root: Path) -> int:
    """Copy the chunks and active versions of ``root``'s former catalog file into an
    empty ``catalog``; returns how many chunks. Two processes importing at once write the
    same rows (the writes are upserts), so no lock is needed."""
    path = root / LEGACY_NAME
    if not path.is_file() or catalog.corpora():
        return 0
    count = 0
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        if not {"chunks", "active"} <= tables:
            return 0
        cursor = source.execute(
            "SELECT corpus, chunk_id, document_id, version, ordinal, title, section, page, "
            "text, body_terms, head_terms FROM chunks ORDER BY rowid"
        )
        while rows := cursor.fetchmany(_ROWS):
            by_corpus: dict[str, list[tuple[Chunk, str, str]]] = {}
            for corpus, *fields, body, head in rows:
                chunk = Chunk(*fields)
                by_corpus.setdefault(corpus, []).append((chunk, body, head))
            for corpus, chunks in by_corpus.items():
                catalog.insert_chunks(corpus, chunks)
            count += len(rows)
        active: dict[str, list[tuple[str, int]]] = {}
        for corpus, document_id, version in source.execute(
            "SELECT corpus, document_id, version FROM active"
        ):
            active.setdefault(corpus, []).append((document_id, int(version)))
        for corpus, versions in active.items():
            catalog.activate(corpus, versions)
    finally:
        source.close()
    try:
        path.rename(path.with_name(LEGACY_NAME + ".imported"))
    except FileNotFoundError:  # another process imported it at the same time
        pass
    logger.info("imported the former catalog file chunks=%d", count)
    return count
