"""The head-signal measurement ranks today's combination exactly as ``fusion.fuse`` does."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.fusion import Candidate, fuse
from retrieval.head_sweep import Combination, Signals, combinations, fused, heading_text
from retrieval.types import Chunk


def _candidates() -> list[Candidate]:
    rng = np.random.default_rng(7)
    candidates = []
    for i in range(40):
        lexical_rank = i + 1 if i < 25 else None
        dense_rank = (40 - i) if i >= 10 else None
        candidates.append(
            Candidate(
                f"c{i}",
                f"d{i % 13}",
                lexical=float(rng.uniform(0, 12)) if lexical_rank else float(rng.uniform(0, 1)),
                dense=float(rng.uniform(0.75, 0.9)) if dense_rank else None,
                lexical_rank=lexical_rank,
                dense_rank=dense_rank,
            )
        )
    return candidates


def _signals(candidates: list[Candidate], head_only: int = 0) -> Signals:
    nan = float("nan")
    n = len(candidates)
    return Signals(
        documents=[c.document_id for c in candidates] + ["extra"] * head_only,
        lexical=np.array([c.lexical for c in candidates] + [0.5] * head_only),
        lexical_rank=np.array([c.lexical_rank or 0 for c in candidates] + [0] * head_only),
        body=np.array(
            [nan if c.dense is None else c.dense for c in candidates] + [nan] * head_only
        ),
        body_rank=np.array([c.dense_rank or 0 for c in candidates] + [0] * head_only),
        head=np.array([0.8 + 0.001 * i for i in range(n)] + [0.99] * head_only),
        head_only=np.array([False] * n + [True] * head_only),
    )


@pytest.mark.parametrize("method", ["score", "rank"])
@pytest.mark.parametrize("weight", [0.0, 0.1, 0.7, 1.0])
def test_today_is_reproduced(method: str, weight: float) -> None:
    candidates = _candidates()
    fuse(candidates, lexical_weight=weight, method=method)
    expected = [c.chunk_id for c in sorted(candidates, key=lambda c: c.fused, reverse=True)]
    # Chunks proposed by the head side alone take no part in today's ranking.
    scores, keep = fused(_signals(candidates, head_only=3), Combination("A", method, weight))
    assert keep.sum() == len(candidates)
    order = np.argsort(-scores, kind="stable")
    assert [candidates[i].chunk_id for i in order] == expected


def test_head_only_candidates_join_the_new_combinations() -> None:
    signals = _signals(_candidates(), head_only=3)
    for combination in (Combination("B", "score", 0.1), Combination("D", "score", 0.1, 1.0)):
        scores, keep = fused(signals, combination)
        assert keep.all() and scores.size == len(signals.documents)
    # Head weight 1: the dense part is the head cosine alone, the extras' 0.99 leads it.
    scores, _ = fused(signals, Combination("D", "score", 0.0, 1.0))
    assert set(np.argsort(-scores, kind="stable")[:3]) == {40, 41, 42}


def test_the_rule_lists_every_combination_once() -> None:
    keys = [c.key() for c in combinations()]
    assert len(keys) == len(set(keys)) == 3 * 2 * 11 + 11 * 11


def test_heading_text() -> None:
    chunk = Chunk("d@v1#0", "d", 1, 0, "Titre", "A > B", None, "x")
    assert heading_text(chunk) == "Titre — A > B"
