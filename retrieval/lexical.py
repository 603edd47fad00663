"""In-memory BM25 index of one corpus, built from the catalog's pre-analysed terms and
refreshed incrementally when other processes or hosts change documents.

Two BM25 fields, scored separately and added (a simple BM25F): the *full* text (title,
section and passage) and the *head* (title and section only). Headings are short and
written to name what the passage is about, so a query term found there deserves credit of
its own rather than being drowned in a long passage; both fields have the same weight
(no tuning: 1 + 1).

The index keeps term frequencies, not precomputed scores, so that BM25's statistics
(number of chunks, document frequency of each query term, average length) are computed
at query time over what is live. That is what makes the refresh incremental: a *base*
built once holds most chunks; a small *delta* holds the current chunks of every document
changed since the base (read through the catalog's change log), and the base rows of those
documents are masked out. Scores are then exactly those of a full rebuild. When the delta
outgrows a share of the base, the index is compacted (rebuilt in full).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from retrieval.catalog import Catalog, LexicalChanges, LexicalRows

logger = logging.getLogger(__name__)

# Lucene/Elasticsearch defaults, deliberately not tuned to our evaluation sets.
BM25_K1 = 1.2
BM25_B = 0.75
HEAD_FIELD_WEIGHT = 1.0
# Compact when the delta holds more chunks than this share of the base; indexes up to
# INLINE_COMPACTION chunks at once, larger ones in a thread.
COMPACT_SHARE = 0.1
INLINE_COMPACTION = 20_000

_EMPTY_ROWS = np.zeros(0, dtype=np.int32)
_EMPTY_TF = np.zeros(0, dtype=np.float32)


class _Field:
    """Term frequencies of one field: a chunks x vocabulary CSC matrix, and lengths."""

    def __init__(self, documents: Sequence[str]) -> None:
        # Terms are stored space-separated (analysed terms never contain spaces), so one
        # join and one split give every term at C speed.
        flat = " ".join(documents).split()
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(dict.fromkeys(flat))}
        n_docs = len(documents)
        lengths = np.fromiter(
            (d.count(" ") + 1 if d else 0 for d in documents), dtype=np.int64, count=n_docs
        )
        self.lengths = lengths.astype(np.float64)
        ids = np.fromiter(map(self.vocab.__getitem__, flat), dtype=np.int32, count=len(flat))
        rows = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
        # Duplicate (chunk, term) pairs are summed: the matrix holds term frequencies.
        tf = sp.csc_matrix(
            (np.ones(len(ids), dtype=np.float32), (rows, ids)), shape=(n_docs, len(self.vocab))
        )
        tf.sum_duplicates()
        self._indptr = tf.indptr
        self._rows = tf.indices.astype(np.int32)
        self._tf = tf.data

    def column(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding ``term`` and its frequency in each (empty when unknown)."""
        position = self.vocab.get(term)
        if position is None:
            return _EMPTY_ROWS, _EMPTY_TF
        start, end = self._indptr[position], self._indptr[position + 1]
        return self._rows[start:end], self._tf[start:end]


class _Segment:
    """Chunks of a corpus with their two fields, in catalog order."""

    def __init__(self, rows: LexicalRows) -> None:
        self.rows = rows
        self.chunk_ids = rows.chunk_ids
        self.document_ids = rows.document_ids
        self.size = len(rows.chunk_ids)
        self.full = _Field(rows.body_terms)
        self.head = _Field(rows.head_terms)


def _rows_of_documents(document_ids: Sequence[str]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for i, document_id in enumerate(document_ids):
        rows.setdefault(document_id, []).append(i)
    return rows


class _Positions:
    """Chunk id -> row of a live chunk (delta first, then unmasked base rows)."""

    def __init__(self, index: LexicalIndex) -> None:
        self._index = index

    def get(self, chunk_id: str) -> int | None:
        index = self._index
        row = index._delta_position.get(chunk_id)
        if row is not None:
            return index._base.size + row
        row = index._base_position.get(chunk_id)
        if row is not None and index._base_live[row]:
            return row
        return None

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self.get(chunk_id) is not None

    def __getitem__(self, chunk_id: str) -> int:
        row = self.get(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return row


class _Joined(Sequence[str]):
    """Base values followed by delta values, without copying the base."""

    def __init__(self, base: list[str], delta: list[str]) -> None:
        self._base, self._delta = base, delta

    def __len__(self) -> int:
        return len(self._base) + len(self._delta)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._base[i] if i < len(self._base) else self._delta[i - len(self._base)]

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from self._delta


class LexicalIndex:
    """BM25 over the active chunks of one corpus at one catalog generation.

    Rows are the base chunks followed by the delta chunks (``chunk_ids``); a masked base
    row scores 0 and is absent from ``position``.
    """

    def __init__(self, rows: LexicalRows) -> None:
        started = time.perf_counter()
        self._base = _Segment(rows)
        self._base_rows = _rows_of_documents(rows.document_ids)
        self._base_position = {c: i for i, c in enumerate(rows.chunk_ids)}
        self._base_live = np.ones(self._base.size, dtype=bool)
        self._changed: frozenset[str] = frozenset()
        self._set_delta(LexicalRows(rows.generation, [], [], [], [], rows.active))
        self._finish()
        logger.info(
            "lexical index built chunks=%d generation=%d in %.2fs",
            self.size,
            self.generation,
            time.perf_counter() - started,
        )

    def _set_delta(self, rows: LexicalRows) -> None:
        """Make ``rows`` the delta; they carry the generation and active versions."""
        self.generation = rows.generation
        self.active = rows.active
        self._delta = _Segment(rows)
        self._delta_position = {c: i for i, c in enumerate(rows.chunk_ids)}
        self.size = self._base.size + self._delta.size
        self.chunk_ids: Sequence[str] = _Joined(self._base.chunk_ids, self._delta.chunk_ids)
        self.document_ids: Sequence[str] = _Joined(
            self._base.document_ids, self._delta.document_ids
        )
        self.position = _Positions(self)

    def _finish(self) -> None:
        """Statistics over the live rows: their number and average field lengths."""
        live = self._base_live
        self.live = int(live.sum()) + self._delta.size
        self._average = {}
        for name in ("full", "head"):
            base, delta = getattr(self._base, name), getattr(self._delta, name)
            total = float(base.lengths[live].sum() + delta.lengths.sum())
            # No live term at all (an empty field): the average is then never used.
            self._average[name] = total / self.live if total else 1.0

    # -- refresh ----------------------------------------------------------------------

    def refreshed(self, changes: LexicalChanges) -> LexicalIndex:
        """This index brought to ``changes.rows.generation``: a delta for the documents
        changed, or a full rebuild when the change log cannot tell which they are."""
        if changes.documents is None:
            return LexicalIndex(changes.rows)
        started = time.perf_counter()
        touched = changes.documents
        changed = self._changed | touched
        # The delta keeps its chunks of documents not touched now, then the new rows.
        kept = [i for i, d in enumerate(self._delta.document_ids) if d not in touched]
        old, new = self._delta.rows, changes.rows
        active = {d: v for d, v in self.active.items() if d not in touched}
        active.update(new.active)
        delta = LexicalRows(
            new.generation,
            [old.chunk_ids[i] for i in kept] + new.chunk_ids,
            [old.document_ids[i] for i in kept] + new.document_ids,
            [old.body_terms[i] for i in kept] + new.body_terms,
            [old.head_terms[i] for i in kept] + new.head_terms,
            active,
        )
        index = copy.copy(self)
        index._changed = changed
        index._base_live = self._base_live.copy()
        for document_id in touched - self._changed:
            index._base_live[self._base_rows.get(document_id, [])] = False
        index._set_delta(delta)
        index._finish()
        logger.debug(
            "lexical index refreshed documents=%d delta=%d generation=%d in %.3fs",
            len(touched),
            index._delta.size,
            index.generation,
            time.perf_counter() - started,
        )
        return index

    @property
    def delta_size(self) -> int:
        """Chunks held in the delta (documents changed since the base was built)."""
        return self._delta.size

    @property
    def needs_compaction(self) -> bool:
        """Has the delta outgrown its share of the base?"""
        return self._delta.size > COMPACT_SHARE * max(self._base.size, 1)

    # -- scoring ----------------------------------------------------------------------

    def _document_frequency(self, name: str, term: str) -> int:
        rows, _ = getattr(self._base, name).column(term)
        return int(self._base_live[rows].sum()) + len(getattr(self._delta, name).column(term)[0])

    def holds(self, term: str) -> bool:
        """Does any chunk hold ``term``?"""
        return self._field_holds("full", term)

    def heads(self, term: str) -> bool:
        """Does any chunk's heading (its title or section) hold ``term``?"""
        return self._field_holds("head", term)

    def _field_holds(self, name: str, term: str) -> bool:
        base, delta = getattr(self._base, name), getattr(self._delta, name)
        if term not in base.vocab and term not in delta.vocab:
            return False  # most spellings tried for a typo: no array to look at
        return self._document_frequency(name, term) > 0

    def idf(self, term: str) -> float:
        """How specific ``term`` is to few chunks (BM25's Lucene idf; a term no chunk
        holds gets the highest value)."""
        df = self._document_frequency("full", term)
        return float(np.log1p((self.live - df + 0.5) / (df + 0.5)))

    def _field_scores(self, name: str, terms: Sequence[str]) -> np.ndarray | None:
        base, delta = getattr(self._base, name), getattr(self._delta, name)
        scores: np.ndarray | None = None
        norm = BM25_K1 / self._average[name]
        for term in terms:  # a repeated query term counts each time, as in bm25s
            base_rows, base_tf = base.column(term)
            live = self._base_live[base_rows]
            base_rows, base_tf = base_rows[live], base_tf[live]
            delta_rows, delta_tf = delta.column(term)
            df = len(base_rows) + len(delta_rows)
            if not df:
                continue
            if scores is None:
                scores = np.zeros(self.size, dtype=np.float64)
            idf = np.log1p((self.live - df + 0.5) / (df + 0.5))
            for rows, tf, lengths, offset in (
                (base_rows, base_tf, base.lengths, 0),
                (delta_rows, delta_tf, delta.lengths, self._base.size),
            ):
                if len(rows):
                    k = BM25_K1 * (1 - BM25_B) + BM25_B * norm * lengths[rows]
                    scores[rows + offset] += idf * tf / (k + tf)
        return scores

    def scores(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every row, aligned with ``chunk_ids``: (full + weighted head, head)."""
        total = np.zeros(self.size, dtype=np.float32)
        head = self._field_scores("head", terms)
        full = self._field_scores("full", terms)
        if full is not None:
            total += full.astype(np.float32)
        if head is None:
            return total, np.zeros(self.size, dtype=np.float32)
        head32 = head.astype(np.float32)
        total += HEAD_FIELD_WEIGHT * head32
        return total, head32


class LexicalIndexes:
    """The lexical index of each corpus of one catalog, kept at its current generation."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._indexes: dict[str, LexicalIndex] = {}
        self._lock = threading.Lock()
        self._compacting: set[str] = set()

    def current(self, corpus: str) -> LexicalIndex:
        """Built on first use, then refreshed for the documents changed since (by any
        process or host); one catalog read per call when nothing changed."""
        generation = self._catalog.generation(corpus)
        index = self._indexes.get(corpus)
        if index is not None and index.generation == generation:
            return index
        with self._lock:
            index = self._indexes.get(corpus)
            if index is None:
                index = LexicalIndex(self._catalog.lexical_rows(corpus))
            elif index.generation != generation:
                index = index.refreshed(self._catalog.lexical_changes(corpus, index.generation))
            if index.needs_compaction and index.size <= INLINE_COMPACTION:
                index = LexicalIndex(self._catalog.lexical_rows(corpus))
            self._indexes[corpus] = index
        if index.needs_compaction:
            self._compact_later(corpus)
        return index

    def forget(self, corpus: str) -> None:
        """Drop a corpus's index (the corpus is gone)."""
        with self._lock:
            self._indexes.pop(corpus, None)

    def _compact_later(self, corpus: str) -> None:
        """Rebuild a large corpus's index in a thread; searches meanwhile go on with the
        base + delta index, which scores the same, only a little slower."""
        with self._lock:
            if corpus in self._compacting:
                return
            self._compacting.add(corpus)

        def compact() -> None:
            try:
                fresh = LexicalIndex(self._catalog.lexical_rows(corpus))
                with self._lock:
                    current = self._indexes.get(corpus)
                    # A corpus dropped meanwhile stays dropped; a newer index stays.
                    if current is not None and fresh.generation >= current.generation:
                        self._indexes[corpus] = fresh
            except Exception:  # the next search tries again
                logger.exception("lexical compaction failed")
            finally:
                with self._lock:
                    self._compacting.discard(corpus)

        threading.Thread(target=compact, name="lexical-compaction", daemon=True).start()
