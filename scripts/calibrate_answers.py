"""Calibrate the extractive answer and the decision to decline, by rules written first.

    .venv/bin/python scripts/calibrate_answers.py --root /tmp/calibration \\
        corpora/demo ../shared/eval/cnil-faq ../shared/eval/cours-wikipedia

No model is asked: this measures what retrieval and ``review.extractive`` choose. Each
dataset's questions are asked of its own documents; the in-domain questions the demo's
documents do not cover (``Hors des documents``) and every set's questions asked of
another set's documents are the unanswerable ones. The rules, fixed before any figure was
seen (docs/answers.md):

1. ``DENSE_WEIGHT``: among 0, 0.25, 0.5, 1 and 2, the weight whose best unit states the
   expected answer most often, averaged over the sets (answerable questions with one).
2. ``decline_below``: the highest coverage that declines at most 5 % of the answerable
   questions of every set (declining a citizen who had an answer is the costlier error).
3. ``weak_below``: the lowest coverage at which at least 90 % of the unanswerable
   questions of every set are declined or held.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.datasets import EvalSet, Question, load_sets  # noqa: E402
from retrieval.embedding import load_embedder  # noqa: E402
from retrieval.eval import chunk_files  # noqa: E402
from retrieval.index import SearchIndex  # noqa: E402
from review import extractive  # noqa: E402
from review.extractive import Extractor, SourcePassage  # noqa: E402
from server.evaluations.metrics import states_any  # noqa: E402

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
PER_SET = 150
FOREIGN = 50


def _pick(questions: list[Question], limit: int) -> list[Question]:
    if len(questions) <= limit:
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def measure(index: SearchIndex, corpus: str, questions: list[Question], k: int) -> list[dict]:
    rows = []
    for question in questions:
        passages = index.search(corpus=corpus, query=question.question, k=k)
        sources = [
            SourcePassage(n, p.chunk.title, p.chunk.section, p.chunk.text)
            for n, p in enumerate(passages, start=1)
        ]
        row: dict = {
            "set": corpus,
            "id": question.id,
            "question": question.question,
            "answerable": question.answerable,
            "has_expected": bool(question.answers),
            "group": question.group,
        }
        for weight in WEIGHTS:
            extractive.DENSE_WEIGHT = weight
            extractor = Extractor(
                analyze=index.analyzer.analyze,
                weights=lambda text: index.term_weights(corpus=corpus, text=text),
                similarity=index.similarities,
            )
            candidates = extractor.candidates(question.question, sources)
            composition = extractor.compose(candidates)
            best = candidates[0] if candidates else None
            row[f"hit@{weight}"] = states_any(composition.text, question.answers)
            if weight == 0.5:
                row["coverage"] = best.coverage if best else 0.0
                row["dense"] = best.dense if best and best.dense is not None else 0.0
                row["max_dense"] = max((c.dense or 0.0 for c in candidates), default=0.0)
                row["answer"] = composition.text
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--model", default="e5")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="JSON lines of every question")
    args = parser.parse_args()
    embedder = load_embedder(args.model, cache=args.root / "embedding-cache.sqlite3")
    index = SearchIndex(root=args.root, embedder=embedder)
    sets: list[tuple[str, EvalSet]] = []
    for dataset in args.datasets:
        for evalset in load_sets(dataset):
            corpus = f"cal-{dataset.resolve().name}-{evalset.name}"
            index.replace_documents(corpus=corpus, documents=chunk_files(evalset.documents))
            sets.append((corpus, evalset))
    rows: list[dict] = []
    for number, (corpus, evalset) in enumerate(sets):
        own = [q for q in evalset.questions if not q.follows and q.group != "followup"]
        answerable = _pick([q for q in own if q.answerable], PER_SET)
        uncovered = [q for q in own if not q.answerable]
        other = sets[(number + 1) % len(sets)][1]
        foreign = [
            Question(q.id, q.question, [], [], answerable=False, group="foreign")
            for q in _pick([q for q in other.questions if q.answerable], FOREIGN)
        ]
        rows += measure(index, corpus, answerable + uncovered + foreign, args.k)
        print(f"{corpus}: {len(rows)} questions measured", file=sys.stderr)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    report(rows)
    return 0


def report(rows: list[dict]) -> None:
    sets = sorted({r["set"] for r in rows})
    print("\n1. dense weight: best unit states the expected answer")
    means = {}
    for weight in WEIGHTS:
        shares = []
        for name in sets:
            scored = [r for r in rows if r["set"] == name and r["answerable"] and r["has_expected"]]
            if scored:
                shares.append(sum(r[f"hit@{weight}"] for r in scored) / len(scored))
        means[weight] = sum(shares) / len(shares)
        print(f"  {weight:>4}: " + "  ".join(f"{s:.3f}" for s in shares) + f"  mean {means[weight]:.3f}")
    print(f"  chosen: {max(means, key=means.__getitem__)}")
    thresholds = [round(0.05 * i, 2) for i in range(21)]
    print("\n2-3. share below each coverage threshold (answerable | unanswerable), per set")
    for feature in ("coverage",):
        print(f"  feature {feature}: " + "  ".join(sets))
        decline, weak = 0.0, 1.0
        for t in thresholds:
            cells = []
            ok_decline = ok_weak = True
            for name in sets:
                yes = [r for r in rows if r["set"] == name and r["answerable"]]
                no = [r for r in rows if r["set"] == name and not r["answerable"]]
                below_yes = sum(r[feature] < t for r in yes) / max(len(yes), 1)
                below_no = sum(r[feature] < t for r in no) / max(len(no), 1)
                cells.append(f"{below_yes:.3f} | {below_no:.3f}")
                ok_decline &= below_yes <= 0.05
                ok_weak &= not no or below_no >= 0.90
            if ok_decline:
                decline = t
            if ok_weak and weak == 1.0:
                weak = t
            print(f"  {t:.2f}: " + "   ".join(cells))
        print(f"  decline_below = {decline}, weak_below = {weak}")


if __name__ == "__main__":
    sys.exit(main())
