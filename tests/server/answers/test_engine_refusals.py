"""An engine that refuses, a prompt too long, an answer left half-written: nothing lost."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from database import transaction, utcnow
from review.models import Answer, AnswerStatus, ReviewItem
from server.housekeeping import requeue_interrupted_answers
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state

CARTE = """# Carte nationale d'identité

## Pièces à fournir

Pour refaire une carte d'identité, fournissez une photo d'identité de moins de 6 mois,
un justificatif de domicile de moins d'un an et votre ancienne carte.
"""
QUESTION = "Quelles pièces fournir pour refaire une carte d'identité ?"


def _ask(client: TestClient, path: str = "/api/v1/ask") -> dict:
    response = client.post(path, json={"corpus": "mairie", "question": QUESTION})
    assert response.status_code == 200, response.text
    if path.endswith("stream"):
        blocks = response.text.strip().split("\n\n")
        assert blocks[-1].startswith("event: done"), response.text
        return json.loads(blocks[-1].split("data: ", 1)[1])
    return response.json()


def test_an_engine_refusal_keeps_and_queues_the_question(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    state(client).answers.mode = "generative"  # type: ignore[assignment]
    add_corpus(client, "mairie", review="never")
    add_document(client, "mairie", "carte.md", CARTE)
    fake_engine.refuse = (400, "This model's maximum context length is 2048 tokens.")
    for path in ("/api/v1/ask", "/api/v1/ask/stream"):
        body = _ask(client, path)
        assert body["status"] == "pending_review" and body["answer"] is None
    with state(client).sessions() as session:
        reasons = [i.reasons[0]["code"] for i in session.query(ReviewItem).all()]
    assert reasons == ["engine_unavailable", "engine_unavailable"]


def test_the_prompt_is_cut_to_the_window_the_engine_reports(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    state(client).answers.mode = "generative"  # type: ignore[assignment]
    add_corpus(client, "mairie", review="never")
    long_page = CARTE + "\n".join(
        f"\n## Cas particulier {n}\n\nLa carte d'identité d'un cas {n} se refait en mairie "
        f"avec une photo d'identité et un justificatif, au guichet numéro {n}."
        for n in range(200)
    )
    add_document(client, "mairie", "carte.md", long_page)
    fake_engine.window = 700
    fake_engine.reply = lambda r: "Il faut une photo d'identité de moins de 6 mois [1]."
    body = _ask(client)
    assert body["status"] == "released"
    sent = fake_engine.requests[-1]
    prompt = " ".join(m["content"] for m in sent["messages"])
    assert len(prompt) // 3 + 10 + sent["max_completion_tokens"] <= 700


def test_answers_left_half_written_go_to_the_queue(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    add_corpus(client, "mairie", review="never")
    add_document(client, "mairie", "carte.md", CARTE)
    app_state = state(client)
    body = _ask(client)
    with transaction(app_state.sessions) as session:
        answer = session.get_one(Answer, body["answer_id"])
        answer.status = AnswerStatus.generating  # as left by a process killed mid-way
        answer.created_at = utcnow() - timedelta(hours=1)
    assert requeue_interrupted_answers(app_state) == 1
    with app_state.sessions() as session:
        answer = session.get_one(Answer, body["answer_id"])
        assert answer.status == AnswerStatus.pending_review
        assert answer.review is not None and answer.review.reasons[0]["code"] == "interrupted"
