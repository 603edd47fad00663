"""The analysed terms stored with each chunk, and making them again when the analysis changes.

The catalog keeps every chunk's terms so that a lexical index can be built without
analysing text again. The other side of that: when ``FrenchAnalyzer`` changes (a word kept
whole instead of stemmed), terms stored before no longer match the terms of a question.
``ANALYSIS_VERSION`` says which analysis made the stored terms; an index that opens a
catalog made by an older one analyses its chunks again, once, and every host's lexical
index reloads through the generation counter. A catalog that never recorded a version was
made by version 1.
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
    how many were analysed (0 when the catalog is current).

    Two hosts upgraded together may both do it: the result is the same. Chunks of versions
    not live keep their terms; they are garbage or about to be written again.
    """
    stored = catalog.counter(COUNTER) or 1
    if stored >= ANALYSIS_VERSION:
        return 0
    started = time.monotonic()
    count = 0
    for corpus in catalog.corpora():
        for document_id in catalog.active_versions(corpus):
            chunks = catalog.document_chunks(corpus, document_id)
            catalog.insert_chunks(corpus, [(c, *chunk_terms(analyzer, c)) for c in chunks])
            count += len(chunks)
        catalog.activate(corpus, [])  # a new generation: every host reloads the corpus
    catalog.set_counter(COUNTER, ANALYSIS_VERSION)
    if count:
        logger.info(
            "stored terms analysed again (analysis %d -> %d): %d chunks in %.1f s",
            stored,
            ANALYSIS_VERSION,
            count,
            time.monotonic() - started,
        )
    return count
