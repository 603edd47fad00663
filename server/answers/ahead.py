"""Work done for the answers ahead of the questions, when a document goes live.

The extractive answer compares every unit of the retrieved passages (with its headings)
with the question by meaning. Embedding those units is the slow part of the first
questions after a document is indexed (seconds on a CPU); their vectors are kept in the
embedding cache by text. So as soon as a version is live, a background thread embeds the
units of its passages: the first asker finds them ready.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from corpora.lifecycle import DocumentChange, Hook
from retrieval.index import SearchIndex
from review.extractive import comparable_texts

log = logging.getLogger(__name__)
BATCH = 16  # texts per call: the embedder is shared with questions, never held long


def embed_units_ahead(index: SearchIndex) -> Hook:
    """The hook: schedule the embedding of the new version's units. It runs after the
    transaction, in one thread per lifecycle, and never fails the change: a unit it
    misses is embedded when a question first needs it, as before."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guichet-units")

    def hook(session: Session, change: DocumentChange) -> None:
        if change.version is not None:
            worker.submit(_embed, index, change.corpus, str(change.document_id))

    return hook


def _embed(index: SearchIndex, corpus: str, document_id: str) -> None:
    start = time.perf_counter()
    try:
        texts: list[str] = []
        for chunk in index.document_chunks(corpus=corpus, document_id=document_id):
            texts.extend(comparable_texts(chunk.title, chunk.section, chunk.text))
        unique = list(dict.fromkeys(texts))
        for first in range(0, len(unique), BATCH):
            index.embedder.embed_documents_array(unique[first : first + BATCH])
    except Exception:  # noqa: BLE001 - a cache warmed later costs time, not answers
        log.warning("document %s: units not embedded ahead", document_id, exc_info=True)
        return
    log.info(
        "document %s: %d units embedded ahead of questions (%.1f s)",
        document_id,
        len(unique),
        time.perf_counter() - start,
    )
