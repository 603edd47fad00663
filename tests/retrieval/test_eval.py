"""evaluate_retrieval on a tiny dataset made here, and on the shared sets when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.datasets import load_sets
from retrieval.eval import evaluate_retrieval
from retrieval.index import SearchIndex
from tests.retrieval.conftest import EVAL_ROOT, REPO_ROOT


def _dataset(root: Path) -> Path:
    (root / "documents").mkdir(parents=True)
    docs = {
        "passeport": "# Demander un passeport\n\nLe timbre fiscal coûte 86 euros.\n",
        "cantine": "# Cantine scolaire\n\nLes tarifs dépendent du quotient familial.\n",
        "permis": "# Permis perdu\n\nDéclarez la perte du permis de conduire à l'ANTS.\n",
    }
    for doc_id, text in docs.items():
        (root / "documents" / f"{doc_id}.md").write_text(text, encoding="utf-8")
    questions = [
        {
            "id": "q1",
            "question": "Combien coûte le timbre du passeport ?",
            "doc_ids": ["passeport"],
            "answer": "86 euros",
            "answerable": True,
        },
        {
            "id": "q2",
            "question": "Prix de la cantine ?",
            "doc_ids": ["cantine"],
            "answer": None,
            "answerable": True,
        },
        {
            "id": "q3",
            "question": "J'ai perdu mon permis de conduire",
            "doc_ids": ["permis"],
            "answer": None,
            "answerable": True,
        },
        {
            "id": "q4",
            "question": "Horaires de la piscine ?",
            "doc_ids": [],
            "answer": None,
            "answerable": False,
        },
    ]
    (root / "questions.jsonl").write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in questions), encoding="utf-8"
    )
    return root


def test_evaluate_small_dataset(index: SearchIndex, tmp_path: Path) -> None:
    dataset = _dataset(tmp_path / "mini")
    result = evaluate_retrieval(dataset=dataset, index=index, corpus="eval-mini", k=5)
    assert result["n"] == 3 and result["unanswerable_skipped"] == 1
    assert result["hit@1"] == result["hit@5"] == result["mrr"] == 1.0
    assert result["p95_ms"] >= result["p50_ms"] > 0
    generation = index.catalog.generation("eval-mini")
    again = evaluate_retrieval(dataset=dataset, index=index, corpus="eval-mini", k=5)
    assert index.catalog.generation("eval-mini") == generation  # nothing re-indexed
    assert again["hit@1"] == 1.0


@pytest.mark.slow
def test_the_demo_questions_are_a_retrieval_dataset_too(index: SearchIndex) -> None:
    """``guichet eval retrieval corpora/demo`` used to die on a missing questions.jsonl;
    it reads questions.md like ``guichet eval answers``, follow-ups left out."""
    dataset = REPO_ROOT / "corpora" / "demo"
    sets = load_sets(dataset)
    asked = [q for s in sets for q in s.questions if q.answerable and q.doc_ids]
    alone = [q for q in asked if q.follows is None and q.group != "followup"]
    assert alone and any(q.follows for s in sets for q in s.questions)
    result = evaluate_retrieval(dataset=dataset, index=index, corpus="eval-demo", k=5)
    assert result["n"] == len(alone)
    assert result["documents"] == sum(len(s.documents) for s in sets)
    assert result["hit@5"] >= 0.9


@pytest.mark.slow
def test_cnil_faq_targets(index: SearchIndex) -> None:
    dataset = EVAL_ROOT / "cnil-faq"
    if not (dataset / "questions.jsonl").is_file():
        pytest.skip(f"shared evaluation set not found at {dataset}")
    result = evaluate_retrieval(dataset=dataset, index=index, corpus="eval-cnil", k=5)
    assert result["hit@5"] >= 0.95
    assert result["mrr"] >= 0.88
