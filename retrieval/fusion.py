"""Weighted score fusion of the lexical and dense candidate lists.

Each retriever proposes its best ``pool`` chunks; every candidate gets

    fused = LEXICAL_WEIGHT * bm25 / max_bm25 + (1 - LEXICAL_WEIGHT) * cos / max_cos

where the maxima are taken over the candidates of this query. BM25 is exact for every
candidate (the lexical index scores all chunks); a chunk the dense side did not return
gets the lowest similarity the dense side did return (its true similarity is at most
that). Dividing cosine by its maximum, rather than stretching it to [0, 1] with a
min-max, keeps the dense side a gentle tie-breaker: with an English-first embedder on
French text, cosine gaps between good and mediocre passages are small, and stretching
them gave the dense side too much say.

How LEXICAL_WEIGHT was chosen (see docs/retrieval.md): weights 0.0, 0.1, ..., 1.0, and
the one with the best mean MRR over the two development sets (cnil-faq, cours-wikipedia),
measured with ``python -m retrieval.eval DATASET --root DIR --sweep``. The mean is flat
(within 0.001) from 0.6 to 0.8, so the choice is not fragile.
"""

from __future__ import annotations

from dataclasses import dataclass

LEXICAL_WEIGHT = 0.7


@dataclass
class Candidate:
    """Signals gathered for one chunk before fusion."""

    chunk_id: str
    document_id: str
    lexical: float = 0.0
    head: float = 0.0
    dense: float | None = None
    lexical_rank: int | None = None
    dense_rank: int | None = None
    fused: float = 0.0


def fuse(candidates: list[Candidate], *, lexical_weight: float = LEXICAL_WEIGHT) -> None:
    """Set ``fused`` on every candidate (in place)."""
    if not candidates:
        return
    max_lexical = max(c.lexical for c in candidates)
    dense_values = [c.dense for c in candidates if c.dense is not None]
    floor = max(min(dense_values), 0.0) if dense_values else 0.0
    max_dense = max(max(dense_values), 0.0) if dense_values else 0.0
    for c in candidates:
        lexical = c.lexical / max_lexical if max_lexical > 0 else 0.0
        similarity = max(c.dense, 0.0) if c.dense is not None else floor
        dense = similarity / max_dense if max_dense > 0 else 0.0
        c.fused = lexical_weight * lexical + (1.0 - lexical_weight) * dense
