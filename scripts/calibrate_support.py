"""Choose the support thresholds of review/policy.Thresholds from the shared eval sets.

    .venv/bin/python scripts/calibrate_support.py ../shared/eval/cnil-faq ../shared/eval/cours-wikipedia

For each pair (corpus A, corpus B): A's questions asked on A are answerable; B's questions
asked on A are not (the sets share no subject). Prints, for each threshold, the share of
answerable questions that would be declined and of unanswerable ones that would be.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from retrieval.embedding import Embedder
from retrieval.eval import load_dataset
from retrieval.index import SearchIndex
from review.grounding import content_stems, coverage

THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 15)]


def support(question: str, passages: list) -> float:
    if not passages or not content_stems(question):
        return 0.0
    return max(coverage(question, f"{p.chunk.title} {p.chunk.section} {p.chunk.text}")
               for p in passages)


def questions(dataset: Path, limit: int = 300) -> list[str]:
    rows = [json.loads(line) for line in (dataset / "questions.jsonl").open(encoding="utf-8")]
    step = max(1, len(rows) // limit)
    return [r["question"] for r in rows[::step] if r.get("answerable", True)][:limit]


def main(a: Path, b: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="guichet-calibrate-"))
    index = SearchIndex(root=root, embedder=Embedder())
    for own, other in ((a, b), (b, a)):
        corpus = "calib-" + own.name
        documents, _ = load_dataset(own)
        index.replace_documents(corpus=corpus, documents=documents)
        inside = [support(q, index.search(corpus=corpus, query=q, k=5)) for q in questions(own)]
        outside = [support(q, index.search(corpus=corpus, query=q, k=5))
                   for q in questions(other)]
        print(f"\ncorpus {own.name}: {len(inside)} answerable, {len(outside)} unanswerable")
        print("threshold  declined_answerable  declined_unanswerable")
        for t in THRESHOLDS:
            print(f"{t:>9}  {sum(s < t for s in inside) / len(inside):>19.3f}  "
                  f"{sum(s < t for s in outside) / len(outside):>21.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
