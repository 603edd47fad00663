"""The analysed terms stored with each chunk, and making them again when the analysis changes.

The catalog keeps every chunk's terms so that a lexical index can be built without
analysing text again. The other side of that: when ``FrenchAnalyzer`` changes (a word kept
whole instead of stemmed), terms stored before no longer match the terms of a question.
The catalog's counter ``analysis_version`` says which analysis made the stored terms (a
catalog that never recorded one was made by version 1). An index that opens a catalog made
by an older analysis analyses the live chunks again, corpus by corpus: each finished
corpus is recorded (a restart goes on from there) and gets a new generation, so that every
host reloads it. Hosts upgraded together may analyse the corpus in progress twice: the
result is the same. A host still running the older code would store older terms again:
upgrade every host sharing the database before starting them (docs/retrieval.md).
"""

from __future__ import annotations

import logging
import time

from retrieval.analysis import ANALYSIS_VERSION, FrenchAnalyzer
from retrieval.catalog import Catalog
from retrieval.chunking import indexed_text
from retrieval.types import Chunk

logger = logging.getLogger(__name__)

COUNTER = "analysis_version"


def chunk_terms(analyzer: FrenchAnalyzer, chunk: Chunk) -> tuple[str, str]:
    """A chunk's body terms (its text under its headings) and head terms (the headings),
    space-separated as the catalog stores them."""
    body = " ".join(analyzer.analyze(indexed_text(chunk)))
    head = " ".join(analyzer.analyze(f"{chunk.title} {chunk.section}"))
    return body, head


def refresh_stored_terms(catalog: Catalog, analyzer: FrenchAnalyzer) -> int:
    """Analyse the live chunks again when their terms come from an older analysis; returns
    how many were analysed (0 when the catalog is current: one read). Chunks of versions
    not live keep their terms: they are garbage or about to be written again."""
    stored = catalog.counter(COUNTER) or 1
    if stored >= ANALYSIS_VERSION:
        return 0
    started = time.monotonic()
    count = 0
    for corpus in catalog.corpora():
        done = f"{COUNTER}:{corpus}"
        if (catalog.counter(done) or 1) >= ANALYSIS_VERSION:
            continue
        for document_id in catalog.active_versions(corpus):
            chunks = catalog.document_chunks(corpus, document_id)
            catalog.update_terms(corpus, [(c.chunk_id, *chunk_terms(analyzer, c)) for c in chunks])
            count += len(chunks)
        catalog.activate(corpus, [])  # a new generation: every host reloads the corpus
        catalog.set_counter(done, ANALYSIS_VERSION)
    catalog.set_counter(COUNTER, ANALYSIS_VERSION)
    if not count:
        return 0
    logger.info(
        "stored terms analysed again (analysis %d -> %d): %d chunks in %.1f s",
        stored,
        ANALYSIS_VERSION,
        count,
        time.monotonic() - started,
    )
    return count
