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
from typing import Any

import bm25s
import numpy as np
import scipy.sparse as sp

from retrieval.catalog import LexicalRows

logger = logging.getLogger(__name__)

# Lucene/Elasticsearch defaults, deliberately not tuned to our evaluation sets.
BM25_K1 = 1.2
BM25_B = 0.75
HEAD_FIELD_WEIGHT = 1.0


class _VectorisedBM25(bm25s.BM25):
    """bm25s with a vectorised index build (``build_index_from_ids`` is the override point
    bm25s documents for that): the same Lucene scores, computed with numpy/scipy instead of
    a Python loop per document, which matters for rebuilds of 100,000 chunks."""

    def build_index_from_ids(
        self,
        unique_token_ids: Sequence[int],
        corpus_token_ids: Sequence[np.ndarray],
        show_progress: bool = False,
        leave_progress: bool = False,
    ) -> dict[str, Any]:
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        self.nonoccurrence_array = None  # only BM25L/BM25+ use it; bm25s reads it
        lengths = np.fromiter(map(len, corpus_token_ids), dtype=np.int64, count=n_docs)
        flat = np.concatenate(corpus_token_ids) if n_docs else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(n_docs), lengths)
        # Duplicate (document, term) pairs are summed: the matrix holds term frequencies.
        tf = sp.csc_matrix(
            (np.ones(len(flat), dtype=np.float32), (rows, flat)), shape=(n_docs, n_vocab)
        )
        tf.sum_duplicates()
        df = np.diff(tf.indptr)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        average = float(lengths.mean()) if n_docs else 1.0
        norm = self.k1 * ((1 - self.b) + self.b * lengths[tf.indices] / average)
        data = idf[np.repeat(np.arange(n_vocab), df)] * tf.data / (norm + tf.data)
        return {
            "data": data.astype(self.dtype),
            "indices": tf.indices.astype(self.int_dtype),
            "indptr": tf.indptr,
            "num_docs": n_docs,
        }


class _Field:
    """One BM25 field over all chunks, with its own vocabulary."""

    def __init__(self, documents: Sequence[str]) -> None:
        # Terms are stored space-separated (analysed terms never contain spaces), so one
        # join and one split give every term at C speed.
        flat = " ".join(documents).split()
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(dict.fromkeys(flat))}
        self.model: bm25s.BM25 | None = None
        if not self.vocab:
            return
        ids = np.fromiter(map(self.vocab.__getitem__, flat), dtype=np.int32, count=len(flat))
        lengths = [d.count(" ") + 1 if d else 0 for d in documents]
        per_document = np.split(ids, np.cumsum(lengths)[:-1])
        self.model = _VectorisedBM25(k1=BM25_K1, b=BM25_B, method="lucene")
        # Passing ids and vocab skips bm25s's own tokeniser (we analysed already).
        self.model.index((per_document, self.vocab), create_empty_token=False, show_progress=False)

    def document_frequency(self, term: str) -> int:
        """How many chunks hold ``term`` (0 when unknown)."""
        position = self.vocab.get(term)
        if position is None or self.model is None:
            return 0
        indptr = self.model.scores["indptr"]
        return int(indptr[position + 1] - indptr[position])

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
            self.size,
            self.generation,
            time.perf_counter() - started,
        )

    def holds(self, term: str) -> bool:
        """Does any chunk hold ``term``?"""
        return self._full.document_frequency(term) > 0

    def idf(self, term: str) -> float:
        """How specific ``term`` is to few chunks (BM25's Lucene idf; a term no chunk
        holds gets the highest value)."""
        df = self._full.document_frequency(term)
        return float(np.log1p((self.size - df + 0.5) / (df + 0.5)))

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
