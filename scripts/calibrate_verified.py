"""Calibrate the verified-answer matcher on ../shared/eval/cnil-faq (paraphrase groups).

Entries of cnil-faq with several questions are paraphrases of one another. One question
of each such entry plays a verified answer; the others must find it (positives). Half
of the single-question entries are verified answers too (distractors); the other half
ask questions that no verified answer covers and must find nothing (negatives).
A served answer counts as right when its expected answer is the same text, or nearly
(the FAQ holds duplicated entries whose answers differ by a few words).
A wrong verified answer is worse than a normal answer: pick the precision first.

Usage: .venv/bin/python scripts/calibrate_verified.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.embedding import Embedder  # noqa: E402
from review.verified import lexical_similarity, match_score  # noqa: E402

DATA = ROOT.parent / "shared" / "eval" / "cnil-faq" / "questions.jsonl"


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["doc_ids"][0]].append(row)
    multi = [qs for qs in groups.values() if len(qs) > 1]
    single = [qs[0] for qs in groups.values() if len(qs) == 1]
    verified = [qs[0] for qs in multi] + single[::2]
    queries = [q for qs in multi for q in qs[1:]] + single[1::2]

    def same(a: dict, b: dict) -> bool:
        return a["answer"] == b["answer"] or (
            lexical_similarity(a["answer"][:300], b["answer"][:300]) >= 0.6
        )

    embedder = Embedder()
    v = embedder.embed_documents_array([r["question"] for r in verified])
    q = embedder.embed_documents_array([r["question"] for r in queries])
    dense = q @ v.T
    per_query = []  # (dense, lexical, index) of the nearest candidates of each query
    for qi, row in enumerate(queries):
        top = np.argsort(-dense[qi])[:8]
        per_query.append(
            [
                (
                    float(dense[qi, j]),
                    lexical_similarity(row["question"], verified[j]["question"]),
                    int(j),
                )
                for j in top
            ]
        )
    positives = sum(1 for r in queries if any(same(r, v) for v in verified))
    print(f"verified={len(verified)} queries={len(queries)} with an answer={positives}")
    print("dense_weight threshold precision recall served")
    for weight in (0.3, 0.5, 0.7):
        for threshold in np.arange(0.72, 0.97, 0.04):
            accepted = correct = 0
            for row, candidates in zip(queries, per_query, strict=True):
                score, j = max((match_score(d, lex, weight), j) for d, lex, j in candidates)
                if score >= threshold:
                    accepted += 1
                    correct += int(same(row, verified[j]))
            precision = correct / accepted if accepted else 1.0
            print(
                f"{weight:.1f} {threshold:.2f} {precision:.3f} {correct / positives:.3f} {accepted}"
            )


if __name__ == "__main__":
    main()
