"""Retrieval evaluation on a dataset (documents/ + questions.jsonl, or the demo's questions.md).

    python -m retrieval.eval /work/shared/eval/cnil-faq --root /tmp/guichet-eval

A question is a hit at rank r when a chunk of one of its ``doc_ids`` is the r-th distinct
document of the result list (chunks of one document count once).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.analysis import FrenchAnalyzer
from retrieval.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP, chunk_document, indexed_text
from retrieval.datasets import load_sets
from retrieval.fusion import fuse
from retrieval.index import CANDIDATE_POOL, DocumentChunks, SearchIndex
from retrieval.parsing import parse_document
from retrieval.types import Chunk

logger = logging.getLogger(__name__)

# Chunks retrieved per question to rank documents for MRR (a cut-off, as in MRR@n).
RANKING_DEPTH = 20


def load_dataset(
    dataset: Path, *, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP
) -> tuple[list[DocumentChunks], list[dict[str, Any]]]:
    """Parse and chunk every document; version = a content hash, so edits re-index.

    Either format of ``retrieval.datasets``. The demo's ``questions.md`` holds several sets
    (the town's procedures, the course): their documents are searched as one corpus, which
    only adds pages to tell apart. Follow-ups are left out: alone, « et pour un passeport ? »
    is not a search a citizen makes.
    """
    sets = load_sets(dataset)
    paths = [path for evalset in sets for path in evalset.documents]
    if len({path.stem for path in paths}) < len(paths):
        raise ValueError(f"{dataset} : deux documents de ses jeux portent le même nom")
    documents = chunk_files(paths, max_chars=max_chars, overlap=overlap)
    questions = [
        question.as_dict()
        for evalset in sets
        for question in evalset.questions
        if question.follows is None and question.group != "followup"
    ]
    return documents, questions


def chunk_files(
    paths: Sequence[Path], *, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP
) -> list[DocumentChunks]:
    """Parse and chunk files as an upload would; the id is the file stem, the version a
    hash of the content (so an edited file is indexed again)."""
    documents = []
    for path in paths:
        data = path.read_bytes()
        version = int(hashlib.sha256(data).hexdigest()[:7], 16)
        parsed = parse_document(data, filename=path.name, max_bytes=len(data) + 1)
        chunks = chunk_document(
            parsed, document_id=path.stem, version=version, max_chars=max_chars, overlap=overlap
        )
        documents.append(DocumentChunks(path.stem, version, chunks))
    return documents


def _document_rank(document_ids: Sequence[str], gold: set[str]) -> int | None:
    seen: list[str] = []
    for document_id in document_ids:
        if document_id not in seen:
            seen.append(document_id)
            if document_id in gold:
                return len(seen)
    return None


def _summary(ranks: list[int | None], k: int) -> dict[str, float]:
    n = max(len(ranks), 1)
    return {
        "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
        "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "hit@k": round(sum(r is not None and r <= k for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


def evaluate_retrieval(
    *,
    dataset: Path,
    index: SearchIndex,
    corpus: str,
    k: int = 5,
    progress: Callable[[int, int], None] | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
) -> dict[str, Any]:
    """Index the dataset's documents into ``corpus`` (unchanged ones are skipped), then
    run every answerable question and return hit rates, MRR and latency percentiles."""
    documents, questions = load_dataset(dataset, max_chars=max_chars, overlap=overlap)
    started = time.perf_counter()
    index.replace_documents(corpus=corpus, documents=documents)
    ingest_s = time.perf_counter() - started
    answerable = [q for q in questions if q.get("answerable", True) and q.get("doc_ids")]
    depth = max(k, RANKING_DEPTH)
    index.search(corpus=corpus, query="warm-up", k=1)  # builds the lexical index
    ranks: list[int | None] = []
    latencies: list[float] = []
    for done, question in enumerate(answerable, start=1):
        t0 = time.perf_counter()
        passages = index.search(corpus=corpus, query=question["question"], k=depth)
        latencies.append(1000 * (time.perf_counter() - t0))
        ranks.append(
            _document_rank([p.chunk.document_id for p in passages], set(question["doc_ids"]))
        )
        if progress:
            progress(done, len(answerable))
    return {
        "dataset": dataset.name,
        "corpus": corpus,
        "n": len(answerable),
        "k": k,
        **_summary(ranks, k),
        "p50_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        "documents": len(documents),
        "chunks": sum(len(d.chunks) for d in documents),
        "ingest_s": round(ingest_s, 2),
        "unanswerable_skipped": len(questions) - len(answerable),
    }


def evaluate_plain_bm25(
    *,
    dataset: Path,
    k: int = 5,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
) -> dict[str, Any]:
    """Baseline on the same chunks: one BM25 field (bm25s, same French analysis) over the
    text the hybrid index embeds (title, section, passage); no head field, no dense side."""
    import bm25s

    documents, questions = load_dataset(dataset, max_chars=max_chars, overlap=overlap)
    chunks: list[Chunk] = [c for d in documents for c in d.chunks]
    analyzer = FrenchAnalyzer()
    model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    model.index([analyzer.analyze(indexed_text(c)) or ["_"] for c in chunks], show_progress=False)
    vocab = model.vocab_dict
    answerable = [q for q in questions if q.get("answerable", True) and q.get("doc_ids")]
    ranks: list[int | None] = []
    for question in answerable:
        ids = [vocab[t] for t in analyzer.analyze(question["question"]) if t in vocab]
        scores = model.get_scores_from_ids(ids) if ids else np.zeros(len(chunks))
        order = np.argsort(-scores, kind="stable")[: max(k, RANKING_DEPTH)]
        ranks.append(
            _document_rank(
                [chunks[i].document_id for i in order if scores[i] > 0], set(question["doc_ids"])
            )
        )
    return {
        "dataset": dataset.name,
        "pipeline": "plain-bm25",
        "n": len(answerable),
        "k": k,
        **_summary(ranks, k),
        "chunks": len(chunks),
    }


def sweep_lexical_weight(
    *,
    dataset: Path,
    index: SearchIndex,
    corpus: str,
    weights: Sequence[float],
    methods: Sequence[str] = ("score",),
    k: int = 5,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
) -> list[dict[str, Any]]:
    """The same evaluation for several fusion weights, gathering candidates once per
    question (how ``fusion.LEXICAL_WEIGHT`` was chosen; see docs/retrieval.md)."""
    documents, questions = load_dataset(dataset, max_chars=max_chars, overlap=overlap)
    index.replace_documents(corpus=corpus, documents=documents)
    answerable = [q for q in questions if q.get("answerable", True) and q.get("doc_ids")]
    ranks: dict[tuple[str, float], list[int | None]] = {
        (m, w): [] for m in methods for w in weights
    }
    pool = max(CANDIDATE_POOL, 2 * max(k, RANKING_DEPTH))
    for question in answerable:
        candidates = index.candidates(corpus=corpus, query=question["question"], pool=pool)
        gold = set(question["doc_ids"])
        for method, weight in ranks:
            fuse(candidates, lexical_weight=weight, method=method)
            ordered = sorted(candidates, key=lambda c: c.fused, reverse=True)[:RANKING_DEPTH]
            ranks[(method, weight)].append(_document_rank([c.document_id for c in ordered], gold))
    return [
        {
            "dataset": dataset.name,
            "embedder": index.embedder.name,
            "fusion": m,
            "lexical_weight": w,
            "n": len(answerable),
            **_summary(r, k),
        }
        for (m, w), r in ranks.items()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    from retrieval.embedding import load_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--root", type=Path, required=True, help="index folder (reused)")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS)
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    parser.add_argument(
        "--model", default=None, help="embedder: e5, use-m3, minilm or a local folder"
    )
    parser.add_argument("--baseline", action="store_true", help="also run plain BM25")
    parser.add_argument(
        "--sweep", action="store_true", help="only evaluate fusion weights 0.0, 0.1, ... 1.0"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    corpus = args.corpus or f"eval-{args.dataset.name}-{args.max_chars}-{args.overlap}"
    embedder = load_embedder(args.model, cache=args.root / "embedding-cache.sqlite3")
    index = SearchIndex(root=args.root, embedder=embedder)
    if args.sweep:
        weights = [round(0.1 * i, 1) for i in range(11)]
        for row in sweep_lexical_weight(
            dataset=args.dataset,
            index=index,
            corpus=corpus,
            weights=weights,
            methods=("score", "rank"),
            k=args.k,
            max_chars=args.max_chars,
            overlap=args.overlap,
        ):
            print(json.dumps(row, ensure_ascii=False))
        return 0
    result = evaluate_retrieval(
        dataset=args.dataset,
        index=index,
        corpus=corpus,
        k=args.k,
        max_chars=args.max_chars,
        overlap=args.overlap,
    )
    print(json.dumps({"pipeline": "hybrid", **result}, ensure_ascii=False))
    if args.baseline:
        baseline = evaluate_plain_bm25(
            dataset=args.dataset, k=args.k, max_chars=args.max_chars, overlap=args.overlap
        )
        print(json.dumps(baseline, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
