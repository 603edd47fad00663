"""Measure a dense head signal beside today's dense signal (docs/retrieval.md, « A dense
head signal: the rule, written before measuring »), on one or more evaluation sets:

    python -m retrieval.head_sweep /work/shared/eval/cnil-faq \
        /work/shared/eval/cours-wikipedia --root /tmp/guichet-eval --model e5

*Body cosine*: today's dense signal (the query in query mode against
``title — section\\npassage`` in passage mode, from Chroma). *Head cosine*: the query
against the chunk's heading ``title — section`` embedded in query mode too (symmetric, as
e5 is meant to be used for paraphrases). The head side proposes its own best chunks, as
a second Chroma collection would; a candidate a side did not propose gets that side's
lowest value, as ``fusion.fuse`` does for the body side.

Candidates are gathered once per question; every combination of the rule (A, today; B,
max; C, mean; D, a third term) is then ranked from the same arrays. Prints one JSON line
per set and combination, then the best of each variant and the rule's choice.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP
from retrieval.eval import RANKING_DEPTH, _document_rank, _summary, load_dataset
from retrieval.fusion import RRF_K
from retrieval.index import CANDIDATE_POOL, SearchIndex
from retrieval.types import Chunk

WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
# Issue #14's targets: (hit@5, MRR) per set.
TARGETS = {"cnil-faq": (0.97, 0.92), "cours-wikipedia": (0.96, 0.91)}


def heading_text(chunk: Chunk) -> str:
    """What a chunk is about, as its headings say: ``title — section path``."""
    return " — ".join(part for part in (chunk.title, chunk.section) if part)


@dataclass(frozen=True)
class Combination:
    """One way of ranking: ``variant`` A (body), B (max), C (mean) or D (third term)."""

    variant: str
    fusion: str
    lexical_weight: float
    head_weight: float = 0.0

    def key(self) -> tuple[str, str, float, float]:
        return (self.variant, self.fusion, self.lexical_weight, self.head_weight)


def combinations() -> list[Combination]:
    """Every combination the rule names, in its order."""
    found = [
        Combination(variant, fusion, w)
        for variant in ("A", "B", "C")
        for fusion in ("score", "rank")
        for w in WEIGHTS
    ]
    found += [Combination("D", "score", w, h) for w in WEIGHTS for h in WEIGHTS]
    return found


@dataclass
class Signals:
    """One question's candidates as arrays, in ``SearchIndex.candidates`` order, then the
    chunks only the head side proposed. NaN: the side did not propose the chunk."""

    documents: list[str]
    lexical: np.ndarray
    lexical_rank: np.ndarray  # 1-based; 0 when the lexical side did not propose it
    body: np.ndarray
    body_rank: np.ndarray  # 1-based; 0 when the body side did not propose it
    head: np.ndarray
    head_only: np.ndarray  # proposed by the head side alone (absent from today's ranking)


def _floored(values: np.ndarray) -> np.ndarray:
    """Missing values get the side's lowest proposed one; negative cosines count as 0."""
    present = values[~np.isnan(values)]
    if not present.size:
        return np.zeros_like(values)
    floor = max(float(present.min()), 0.0)
    return np.where(np.isnan(values), floor, np.maximum(values, 0.0))


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def _ranks(values: np.ndarray) -> np.ndarray:
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, values.size + 1)
    return ranks


def fused(signals: Signals, combination: Combination) -> tuple[np.ndarray, np.ndarray]:
    """(fused scores, which candidates take part) for one combination; A reproduces
    ``fusion.fuse`` on today's candidates."""
    keep = ~signals.head_only if combination.variant == "A" else np.ones_like(signals.head_only)
    lexical = signals.lexical[keep]
    body = signals.body[keep]
    head = signals.head[keep]
    w = combination.lexical_weight
    if combination.variant == "A":
        dense = _floored(body)
        dense_rank = signals.body_rank[keep]
    elif combination.variant == "B":
        dense = np.maximum(_floored(body), _floored(head))
        dense_rank = _ranks(dense)
    elif combination.variant == "C":
        dense = (_floored(body) + _floored(head)) / 2
        dense_rank = _ranks(dense)
    else:
        h = combination.head_weight
        dense = (1 - h) * _scaled(_floored(body)) + h * _scaled(_floored(head))
        dense_rank = _ranks(dense)
    if combination.fusion == "rank":
        missing = lexical.size + 1
        lexical_rank = np.where(signals.lexical_rank[keep] > 0, signals.lexical_rank[keep], missing)
        dense_rank = np.where(dense_rank > 0, dense_rank, missing)
        scores = w / (RRF_K + lexical_rank) + (1 - w) / (RRF_K + dense_rank)
    else:
        scores = w * _scaled(lexical) + (1 - w) * _scaled(dense)
    return scores, keep


def gather(
    *, index: SearchIndex, corpus: str, question: str, heads: np.ndarray, pool: int
) -> Signals:
    """The candidates of today's search plus the head side's ``pool`` nearest headings.

    ``heads`` holds the heading vectors aligned with the lexical index's rows."""
    candidates = index.candidates(corpus=corpus, query=question, pool=pool)
    lexical = index.lexical_index(corpus)
    head_all = heads @ index.embedder.embed_query_array(question)
    n = min(pool, head_all.size)
    top = np.argpartition(-head_all, n - 1)[:n]
    proposed = {lexical.chunk_ids[i]: float(head_all[i]) for i in top}
    known = {c.chunk_id for c in candidates}
    extra = [chunk_id for chunk_id in proposed if chunk_id not in known]
    total = lexical.scores(index.analyzer.analyze(question))[0]
    documents = [c.document_id for c in candidates]
    lexical_scores = [c.lexical for c in candidates]
    for chunk_id in extra:
        position = lexical.position.get(chunk_id)
        assert position is not None  # the lexical rows are the live chunks
        documents.append(lexical.document_ids[position])
        lexical_scores.append(float(total[position]))
    nan = float("nan")
    return Signals(
        documents=documents,
        lexical=np.asarray(lexical_scores, dtype=np.float64),
        lexical_rank=np.asarray(
            [c.lexical_rank or 0 for c in candidates] + [0] * len(extra), dtype=np.int64
        ),
        body=np.asarray(
            [nan if c.dense is None else c.dense for c in candidates] + [nan] * len(extra),
            dtype=np.float64,
        ),
        body_rank=np.asarray(
            [c.dense_rank or 0 for c in candidates] + [0] * len(extra), dtype=np.int64
        ),
        head=np.asarray(
            [proposed.get(c.chunk_id, nan) for c in candidates] + [proposed[i] for i in extra],
            dtype=np.float64,
        ),
        head_only=np.asarray([False] * len(candidates) + [True] * len(extra)),
    )


def heading_vectors(index: SearchIndex, corpus: str, chunks: Sequence[Chunk]) -> np.ndarray:
    """Heading vectors (query mode) aligned with the corpus's lexical rows; each distinct
    heading is embedded once."""
    lexical = index.lexical_index(corpus)
    by_id = {c.chunk_id: heading_text(c) for c in chunks}
    texts = [by_id[chunk_id] for chunk_id in lexical.chunk_ids]
    vectors = {t: index.embedder.embed_query_array(t) for t in dict.fromkeys(texts) if t}
    zero = np.zeros(index.embedder.dimension, dtype=np.float32)
    return np.vstack([vectors.get(t, zero) for t in texts]).astype(np.float32)


def sweep(
    *, dataset: Path, index: SearchIndex, corpus: str, k: int = 5
) -> dict[tuple[str, str, float, float], dict[str, Any]]:
    """Figures of every combination on one set, keyed by ``Combination.key()``."""
    documents, questions = load_dataset(dataset)
    index.replace_documents(corpus=corpus, documents=documents)
    heads = heading_vectors(index, corpus, [c for d in documents for c in d.chunks])
    answerable = [q for q in questions if q.get("answerable", True) and q.get("doc_ids")]
    pool = max(CANDIDATE_POOL, 2 * max(k, RANKING_DEPTH))
    every = combinations()
    ranks: dict[tuple[str, str, float, float], list[int | None]] = {c.key(): [] for c in every}
    for question in answerable:
        signals = gather(
            index=index, corpus=corpus, question=question["question"], heads=heads, pool=pool
        )
        gold = set(question["doc_ids"])
        for combination in every:
            scores, keep = fused(signals, combination)
            kept = [d for d, taken in zip(signals.documents, keep, strict=True) if taken]
            order = np.argsort(-scores, kind="stable")[:RANKING_DEPTH]
            ranks[combination.key()].append(_document_rank([kept[i] for i in order], gold))
    return {key: {"n": len(answerable), **_summary(r, k)} for key, r in ranks.items()}


def _row(dataset: str, key: tuple[str, str, float, float], figures: dict[str, Any]) -> str:
    variant, fusion, w, h = key
    return json.dumps(
        {
            "dataset": dataset,
            "variant": variant,
            "fusion": fusion,
            "lexical_weight": w,
            "head_weight": h,
            **figures,
        },
        ensure_ascii=False,
    )


def best_per_variant(
    results: dict[str, dict[tuple[str, str, float, float], dict[str, Any]]],
) -> Iterator[tuple[tuple[str, str, float, float], float]]:
    """For each variant, the combination with the best mean MRR over the sets (the first
    in the rule's order on a tie), with that mean."""
    keys = [c.key() for c in combinations()]
    for variant in ("A", "B", "C", "D"):
        scored = [
            (key, sum(r[key]["mrr"] for r in results.values()) / len(results))
            for key in keys
            if key[0] == variant
        ]
        yield max(scored, key=lambda item: item[1])


def main(argv: Sequence[str] | None = None) -> int:
    from retrieval.embedding import load_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--root", type=Path, required=True, help="index folder (reused)")
    parser.add_argument("--model", default="e5")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    embedder = load_embedder(args.model, cache=args.root / "embedding-cache.sqlite3")
    index = SearchIndex(root=args.root, embedder=embedder)
    results: dict[str, dict[tuple[str, str, float, float], dict[str, Any]]] = {}
    for dataset in args.datasets:
        # The corpus name of ``python -m retrieval.eval``: its index is reused.
        corpus = f"eval-{dataset.name}-{DEFAULT_MAX_CHARS}-{DEFAULT_OVERLAP}"
        results[dataset.name] = sweep(dataset=dataset, index=index, corpus=corpus, k=args.k)
        for key, figures in results[dataset.name].items():
            print(_row(dataset.name, key, figures))
    best = list(best_per_variant(results))
    for key, mean in best:
        for name, table in results.items():
            print("best", _row(name, key, table[key]), f"mean_mrr={mean:.4f}")
    choice, mean = max(best, key=lambda item: item[1])
    today = ("A", index.fusion.method, index.fusion.lexical_weight, 0.0)
    for label, key in (("today", today), ("choice", choice)):
        for name, table in results.items():
            print(label, _row(name, key, table[key]))
    met = (
        all(
            results[name][choice]["hit@5"] >= hit5 and results[name][choice]["mrr"] >= mrr
            for name, (hit5, mrr) in TARGETS.items()
        )
        if set(TARGETS) <= set(results)
        else None
    )
    print("choice", json.dumps({"combination": choice, "mean_mrr": round(mean, 4), "met": met}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
