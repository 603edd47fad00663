"""A whole long page, many passages, the real engine's 2,048-token window: the prompt fits.

Service-public fiches run to 65,000 characters with their headings as plain lines. With ten
passages of such a page and a long question, the prompt used to exceed the embedded
engine's window: vLLM refused it and the answer stayed « generating ». Here the real
engine answers, and the tokens it counted stay within its window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from review.models import Answer, AnswerStatus
from server.app import create_app
from server.engine.process import EmbeddedEngine
from tests.conftest import make_settings
from tests.helpers import add_corpus, add_document, state
from tests.storage import Storage

pytestmark = [pytest.mark.engine, pytest.mark.slow]
WINDOW = 2048  # --max-model-len of the embedded engine


def long_page() -> str:
    """About 65,000 characters, headings as plain lines (no Markdown), as published."""
    parts = ["# Carte grise : changement d'adresse", "", "Véhicules > Carte grise > Adresse", ""]
    for n in range(1, 41):
        parts += [
            f"Cas particulier numéro {n}",
            "",
            f"Si vous déménagez dans la commune numéro {n}, la nouvelle adresse doit être "
            f"déclarée dans le mois qui suit le déménagement, en ligne sur le site de l'ANTS. "
            f"La démarche est gratuite ; le certificat modifié arrive sous {n + 3} jours. "
            f"Conservez le coupon de {n} pages jusqu'à sa réception. " * 6,
            "",
        ]
    return "\n".join(parts)


@pytest.fixture
def client(
    tmp_path: Path, storage: Storage, embedded_engine: EmbeddedEngine
) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data",
        llm_base_url=embedded_engine.base_url,
        llm_model=embedded_engine.served_model_name,
        answer_mode="generative",
        retrieval_k=10,
        **storage.settings(),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_65000_character_page_with_ten_passages_fits_the_window(client: TestClient) -> None:
    page = long_page()
    assert len(page) > 60_000
    # Doubtful answers wait for a person: what is checked here is the window, not the policy.
    add_corpus(client, "prefecture", review="flagged")
    add_document(client, "prefecture", "carte-grise.md", page)
    question = (
        "Je viens de déménager dans une autre commune avec ma voiture et ma moto, dans quel "
        "délai dois-je déclarer ma nouvelle adresse pour la carte grise, est-ce payant, et "
        "que dois-je garder en attendant de recevoir le nouveau certificat d'immatriculation ?"
    )
    response = client.post("/api/v1/ask", json={"corpus": "prefecture", "question": question})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] in ("released", "pending_review"), body
    with state(client).sessions() as session:
        answer = session.get_one(Answer, body["answer_id"])
        assert answer.status != AnswerStatus.generating
        assert "engine_unavailable" not in [r["code"] for r in answer.reasons], answer.reasons
        # The engine counted the prompt: it and the answer fit its window.
        assert answer.prompt_tokens > 0
        assert answer.prompt_tokens + answer.completion_tokens <= WINDOW
        assert len(answer.passages) == 10


def test_an_engine_refusal_keeps_the_question_in_the_queue(
    tmp_path: Path, storage: Storage, embedded_engine: EmbeddedEngine
) -> None:
    # A model name the engine does not serve: vLLM refuses every request (HTTP 404).
    settings = make_settings(
        tmp_path / "data",
        llm_base_url=embedded_engine.base_url,
        llm_model="no-such-model",
        answer_mode="generative",
        **storage.settings(),
    )
    with TestClient(create_app(settings)) as client:
        add_corpus(client, "prefecture", review="never")
        add_document(client, "prefecture", "carte-grise.md", long_page()[:4000])
        for path in ("/api/v1/ask", "/api/v1/ask/stream"):
            response = client.post(
                path,
                json={"corpus": "prefecture", "question": "La démarche est-elle gratuite ?"},
            )
            assert response.status_code == 200, response.text
            assert "event: done" in response.text or response.json()["status"] == ("pending_review")
        with state(client).sessions() as session:
            answers = session.query(Answer).all()
            assert [a.status for a in answers] == [AnswerStatus.pending_review] * 2
            assert all(a.reasons[0]["code"] == "engine_unavailable" for a in answers)
    assert httpx.get(f"{embedded_engine.base_url}/models").status_code == 200
