"""Hardening (#16, item 9): names and postal addresses in questions are masked before they
are stored, with spaCy's packaged French pipeline beside the identifier patterns.

Precision and recall are measured on questions written for it (name_masking.json:
25 with personal data, 25 without, many of those naming streets, schools or public
figures). Print the figures with ``pytest tests/server/answers/test_name_masking.py -s``.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from review.models import Answer
from server.answers.names import find_names_and_addresses
from server.answers.privacy import mask_personal_data
from tests.helpers import add_corpus, add_document, state

SET = Path(__file__).parent / "name_masking.json"


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Every letter and digit of [start, end) lies inside a masked span."""
    return all(any(a <= i < b for a, b in spans) for i in range(start, end))


def measure() -> dict[str, float]:
    """Span precision (masked spans that hold personal data) and recall (personal data
    items masked whole), over the whole set."""
    questions = json.loads(SET.read_text(encoding="utf-8"))["questions"]
    masked_spans = true_spans = items = items_masked = 0
    for entry in questions:
        text = entry["q"]
        found = [(span.start, span.end) for span in find_names_and_addresses(text)]
        wanted = []
        for item in entry["personal"]:
            start = text.index(item)
            wanted.append((start, start + len(item)))
        masked_spans += len(found)
        true_spans += sum(any(a < y and x < b for x, y in wanted) for a, b in found)
        items += len(wanted)
        items_masked += sum(_covered(x, y, found) for x, y in wanted)
    return {
        "precision": true_spans / masked_spans,
        "recall": items_masked / items,
        "masked_spans": masked_spans,
        "items": items,
    }


def test_names_and_addresses_are_masked_with_measured_precision_and_recall() -> None:
    masked = mask_personal_data(
        "Je suis Marie Durand, 12 rue des Lilas, tel 06 12 34 56 78, ma carte ?"
    )
    assert masked.text == (
        "Je suis [nom masqué], [adresse masquée], tel [téléphone masqué], ma carte ?"
    )
    assert set(masked.kinds) == {"name", "address", "phone"}
    untouched = "Comment inscrire mon enfant à l'école Jules Ferry, avenue Victor Hugo ?"
    assert mask_personal_data(untouched).text == untouched

    figures = measure()
    print(f"\nname and address masking: {figures}")
    assert figures["precision"] >= 0.85
    assert figures["recall"] >= 0.85


def test_a_stored_question_keeps_no_name_or_address(client: TestClient) -> None:
    add_corpus(client, "noms-mairie", review="never")
    add_document(client, "noms-mairie", "carte.md", "# Carte\n\nUne photo récente.")
    asked = client.post(
        "/api/v1/ask",
        json={
            "corpus": "noms-mairie",
            "question": "Je suis Marie Durand, 12 rue des Lilas : quelle photo faut-il ?",
        },
    )
    assert asked.status_code == 200, asked.text
    with state(client).sessions() as session:
        stored = session.get_one(Answer, asked.json()["answer_id"]).question
    assert "Durand" not in stored and "Lilas" not in stored
    assert stored == "Je suis [nom masqué], [adresse masquée] : quelle photo faut-il ?"
