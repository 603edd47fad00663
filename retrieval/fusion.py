"""Fusion of the lexical and dense candidate lists: by score or by rank.

Each retriever proposes its best ``pool`` chunks. Two ways of fusing them are offered,
because which one is better depends on the embedder (docs/retrieval.md has the sweep):

*Rank fusion* (weighted reciprocal rank, k = 60) gives each candidate
``w / (60 + lexical_rank) + (1 - w) / (60 + dense_rank)``, a rank past the pool for a
side that did not return it. It trusts the order each side gives, not its score scale:
right for a multilingual embedder whose cosines are compressed (multilingual-e5 puts
most French passages between 0.78 and 0.88) but whose order is good.

*Score fusion* gives every candidate

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
RRF_K = 60


@dataclass(frozen=True)
class FusionRule:
    """How to fuse for one embedder: ``method`` is "score" or "rank"."""

    method: str = "score"
    lexical_weight: float = LEXICAL_WEIGHT


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


def fuse(
    candidates: list[Candidate],
    *,
    lexical_weight: float = LEXICAL_WEIGHT,
    method: str = "score",
) -> None:
    """Set ``fused`` on every candidate (in place), in [0, 1] either way."""
    if not candidates:
        return
    if method == "rank":
        _fuse_ranks(candidates, lexical_weight)
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


def _fuse_ranks(candidates: list[Candidate], lexical_weight: float) -> None:
    missing = len(candidates) + 1
    best = 1.0 / (RRF_K + 1)
    for c in candidates:
        lexical = 1.0 / (RRF_K + (c.lexical_rank or missing))
        dense = 1.0 / (RRF_K + (c.dense_rank or missing))
        c.fused = (lexical_weight * lexical + (1.0 - lexical_weight) * dense) / best


# The rule each packaged embedder was calibrated with (docs/retrieval.md, "How the fusion
# was chosen"); any other embedder gets the English-first MiniLM's.
FUSION_RULES: dict[str, FusionRule] = {
    "multilingual-e5-small-q4": FusionRule("score", 0.1),
    "use-multilingual-v3": FusionRule("score", 0.7),
    "all-MiniLM-L6-v2": FusionRule("score", 0.7),
}


def rule_for(embedder_name: str) -> FusionRule:
    return FUSION_RULES.get(embedder_name, FusionRule("score", LEXICAL_WEIGHT))
