"""What `guichet eval answers` counts as stating the expected answer (rule in eval_metrics)."""

from __future__ import annotations

from pathlib import Path

from retrieval.datasets import load_sets
from review.models import Answer
from server.evaluations.metrics import dropped, false_drops, normalise, states

DEMO = Path(__file__).resolve().parents[3] / "corpora" / "demo"


def test_numbers_currency_case_and_accents_are_compared_in_one_form() -> None:
    assert normalise("30 000 euros") == normalise("30000 €")
    assert normalise("3,00 €") == normalise("3 €")
    assert states("Le repas coûte 3,00 € [1].", "3 €")
    assert states("LA DÉCHÈTERIE EST FERMÉE LE MARDI.", "fermée le mardi")
    assert not states("Le repas coûte 30 €.", "3 €")


def test_a_long_expected_answer_is_stated_by_one_of_its_sentences() -> None:
    expected = (
        "Un cookie est un petit fichier informatique, un traceur, déposé et lu lors de la "
        "consultation d'un site internet. Le terme recouvre les cookies HTTP, les cookies "
        "flash et les pixels invisibles que l'on trouve sur de nombreux sites et services."
    )
    answer = (
        "Un cookie est un petit fichier informatique, un traceur, déposé et lu lors de la "
        "consultation d'un site internet [1]."
    )
    assert states(answer, expected)
    assert not states("Un cookie sert à mesurer l'audience des sites visités [1].", expected)


def test_the_demo_questions_are_a_dataset_with_expected_answers() -> None:
    sets = {s.name: s for s in load_sets(DEMO)}
    assert set(sets) == {"procedures", "cours-svt"}
    main = [q for s in sets.values() for q in s.questions if q.group == "main"]
    assert len(main) == 40 and all(q.answers and q.doc_ids for q in main)
    uncovered = [q for s in sets.values() for q in s.questions if q.group == "uncovered"]
    assert len(uncovered) >= 30 and not any(q.answerable for q in uncovered)
    followups = [q for s in sets.values() for q in s.questions if q.follows]
    assert followups and all(q.answers for q in followups)
    # Every expected answer is written in its document (modulo Markdown and spacing).
    for evalset in sets.values():
        texts = {p.stem: normalise(p.read_text(encoding="utf-8")) for p in evalset.documents}
        for question in evalset.questions:
            for document in question.doc_ids:
                assert any(normalise(a) in texts[document] for a in question.answers), question


def test_a_sentence_of_the_draft_left_out_that_said_the_answer_is_a_false_drop() -> None:
    answer = Answer(
        draft=(
            "Le passeport d'un adulte coûte 86 € [1]. Il se demande en mairie [2]. "
            "Pensez à venir tôt."
        ),
        text="Le passeport d'un adulte coûte 86 € [1].\nIl se demande en mairie [2].",
    )
    assert dropped(answer) == ["Pensez à venir tôt."]
    assert false_drops(answer, ["86 €"]) == []
    answer.text = "Il se demande en mairie [2]."
    assert dropped(answer) == ["Le passeport d'un adulte coûte 86 € [1].", "Pensez à venir tôt."]
    assert false_drops(answer, ["86 €"]) == ["Le passeport d'un adulte coûte 86 € [1]."]
