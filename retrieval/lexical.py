"""In-memory BM25 index of one corpus, built from the catalog's pre-analysed terms.

Two BM25 fields, scored separately and added (a simple BM25F): the *full* text (title,
section and passage) and the *head* (title and section only). Headings are short and
written to name what the passage is about, so a query term found there deserves credit of
its own rather than being drowned in a long passage; both fields have the same weight
(no tuning: 1 + 1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import bm25s
import numpy as np

from retrieval.catalog import LexicalRows

logger = logging.getLogger(__name__)

# Lucene/Elasticsearch defaults, deliberately not tuned to our evaluation sets.
BM25_K1 = 1.2
BM25_B = 0.75
HEAD_FIELD_WEIGHT = 1.0


class _Field:
    """One BM25 field over all chunks, with its own vocabulary."""

    def __init__(self, documents: Sequence[str]) -> None:
        self.vocab: dict[str, int] = {}
        ids: list[list[int]] = []
        vocab = self.vocab
        for terms in documents:
            ids.append([vocab.setdefault(t, len(vocab)) for t in terms.split()])
        self.model: bm25s.BM25 | None = None
        if vocab:
            self.model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
            # Passing ids and vocab skips bm25s's own tokeniser (we analysed already).
            self.model.index((ids, vocab), create_empty_token=False, show_progress=False)

    def scores(self, terms: Sequence[str], size: int) -> np.ndarray | None:
        known = [self.vocab[t] for t in terms if t in self.vocab]
        if not known or self.model is None:
            return None
        return np.asarray(self.model.get_scores_from_ids(known), dtype=np.float32)[:size]


class LexicalIndex:
    """BM25 over the active chunks of one corpus at one catalog generation."""

    def __init__(self, rows: LexicalRows) -> None:
        started = time.perf_counter()
        self.generation = rows.generation
        self.active = rows.active
        self.chunk_ids = rows.chunk_ids
        self.document_ids = rows.document_ids
        self.size = len(rows.chunk_ids)
        self.position = {chunk_id: i for i, chunk_id in enumerate(rows.chunk_ids)}
        self._full = _Field(rows.body_terms)
        self._head = _Field(rows.head_terms)
        logger.info(
            "lexical index built chunks=%d generation=%d in %.2fs",
            self.size, self.generation, time.perf_counter() - started,
        )

    def scores(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every chunk, aligned with ``chunk_ids``: (full + weighted head, head)."""
        total = np.zeros(self.size, dtype=np.float32)
        head = self._head.scores(terms, self.size)
        full = self._full.scores(terms, self.size)
        if full is not None:
            total += full
        if head is None:
            head = np.zeros(self.size, dtype=np.float32)
        else:
            total += HEAD_FIELD_WEIGHT * head
        return total, head
