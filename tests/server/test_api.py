"""The first vertical slice through the HTTP API, over real SQLite and Chroma."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document

CARTE = """# Carte nationale d'identité

## Pièces à fournir

Pour refaire une carte d'identité, fournissez une photo d'identité de moins de 6 mois,
un justificatif de domicile de moins d'un an et votre ancienne carte.

## Délais

Le délai de fabrication est de trois semaines environ.
"""

CANTINE = """# Cantine scolaire

## Tarifs

Le repas coûte 3,20 euros pour les familles au quotient familial le plus élevé.
"""


def _setup(client: TestClient) -> int:
    add_corpus(client, "mairie", title="Mairie de Test")
    doc = add_document(client, "mairie", "carte-identite.md", CARTE)
    add_document(client, "mairie", "cantine.md", CANTINE)
    return doc


def test_health_and_ready(client: TestClient, fake_engine: FakeEngine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"engine": True, "vector_store": True, "database": True}
    fake_engine.down = True
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["down"] == ["engine"]


def test_corpora_lists_public_ones(client: TestClient) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    add_corpus(client, "svt", kind="course", review="always")
    body = client.get("/api/v1/corpora").json()
    assert [(c["name"], c["kind"]) for c in body["corpora"]] == [("mairie", "procedures")]


def test_ask_released_with_citation(client: TestClient, fake_engine: FakeEngine) -> None:
    doc = _setup(client)
    fake_engine.reply = lambda request: (
        "Il faut une photo d'identité de moins de 6 mois et un justificatif de domicile [1]."
    )
    response = client.post(
        "/api/v1/ask",
        json={
            "corpus": "mairie",
            "question": "Quels documents faut-il fournir pour refaire une carte d'identité ?",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "released"
    assert "[1]" in body["answer"]
    assert body["citations"][0]["document_id"] == doc
    assert body["citations"][0]["title"] == "Carte nationale d'identité"
    # The passages reached the engine as delimited data, with the citation rule.
    prompt = fake_engine.requests[0]["messages"]
    assert '<extrait numero="1"' in prompt[1]["content"]
    assert "[1]" in prompt[0]["content"]
    again = client.get(f"/api/v1/answers/{body['answer_id']}").json()
    assert again["answer"] == body["answer"]


def test_invalid_citation_is_removed(client: TestClient, fake_engine: FakeEngine) -> None:
    _setup(client)
    fake_engine.reply = lambda request: "Une photo d'identité de moins de 6 mois est demandée [7]."
    body = client.post(
        "/api/v1/ask",
        json={"corpus": "mairie", "question": "Quelle photo pour la carte d'identité ?"},
    ).json()
    assert "[7]" not in (body["answer"] or "")
    assert body["status"] == "pending_review"  # the corpus reviews flagged answers


def test_uncovered_question_is_declined_without_engine(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    _setup(client)
    body = client.post(
        "/api/v1/ask",
        json={"corpus": "mairie", "question": "Quel est le prix d'un permis de chasse en Alaska ?"},
    ).json()
    assert body["status"] == "declined"
    assert body["answer"] is None
    assert "Je n'ai pas trouvé cette information" in body["message"]
    assert fake_engine.requests == []


def test_engine_down_keeps_the_question(client: TestClient, fake_engine: FakeEngine) -> None:
    _setup(client)
    fake_engine.down = True
    body = client.post(
        "/api/v1/ask",
        json={
            "corpus": "mairie",
            "question": "Quels documents pour refaire une carte d'identité ? Tel 06 12 34 56 78",
        },
    ).json()
    assert body["status"] == "pending_review"
    assert body["answer"] is None
    assert "[téléphone masqué]" in body["question"]
    assert "06 12" not in body["question"]
    assert client.get(f"/api/v1/answers/{body['answer_id']}").json()["status"] == "pending_review"


def test_errors_are_clear_and_french_first(client: TestClient) -> None:
    missing = client.post("/api/v1/ask", json={"corpus": "nulle-part", "question": "Bonjour ?"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Le recueil « nulle-part » n'existe pas."
    malformed = client.post("/api/v1/ask", json={"question": ""})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "invalid_request"
    english = client.post(
        "/api/v1/ask", json={"corpus": "x-y", "question": "Hi?"}, headers={"Accept-Language": "en"}
    )
    assert english.json()["error"]["message"] == "The collection “x-y” does not exist."


def test_course_always_review_hides_answer(client: TestClient, fake_engine: FakeEngine) -> None:
    from accounts.models import Role
    from accounts.tokens import issue_token
    from accounts.users import create_user
    from corpora.repository import add_member, get_corpus
    from database import transaction
    from tests.helpers import state

    add_corpus(client, "svt", kind="course", review="always")
    add_document(
        client,
        "svt",
        "respiration.md",
        "# Respiration\n\nLes poumons échangent le dioxygène et le dioxyde de carbone.",
    )
    with transaction(state(client).sessions) as session:
        student = create_user(session=session, name="eleve", role=Role.student)
        add_member(
            session=session,
            corpus=get_corpus(session=session, name="svt"),  # type: ignore[arg-type]
            user_id=student.id,
            role="student",
        )
        token = issue_token(session=session, user=student)
    anonymous = client.post("/api/v1/ask", json={"corpus": "svt", "question": "Poumons ?"})
    assert anonymous.status_code == 401
    fake_engine.reply = lambda r: "Les poumons échangent le dioxygène [1]."
    body = client.post(
        "/api/v1/ask",
        headers={"Authorization": f"Bearer {token}"},
        json={"corpus": "svt", "question": "Que font les poumons ?"},
    ).json()
    assert body["status"] == "pending_review"
    assert body["answer"] is None and body["citations"] == []
