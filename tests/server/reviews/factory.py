"""Set-ups shared by the review tests: people, corpora, and answers held for review."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from accounts.models import Role
from accounts.tokens import issue_token
from accounts.users import create_user
from corpora.repository import add_member, get_corpus
from database import transaction
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state

LUNGS = "# Respiration\n\nLes poumons échangent le dioxygène et le dioxyde de carbone."
CARTE = """# Carte nationale d'identité

## Pièces à fournir

Pour refaire une carte d'identité, fournissez une photo d'identité de moins de 6 mois,
un justificatif de domicile de moins d'un an et votre ancienne carte.
"""


@dataclass(frozen=True)
class Person:
    id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def person(
    client: TestClient, name: str, role: str, corpus: str | None = None, member: str | None = None
) -> Person:
    """A user with a token, attached to ``corpus`` as ``member`` (owner/student)."""
    with transaction(state(client).sessions) as session:
        user = create_user(session=session, name=name, role=Role(role))
        if corpus and member:
            target = get_corpus(session=session, name=corpus)
            assert target is not None
            add_member(session=session, corpus=target, user_id=user.id, role=member)
        return Person(user.id, issue_token(session=session, user=user))


def course(client: TestClient, fake_engine: FakeEngine, name: str = "svt") -> int:
    """A course reviewed ``always``, with one lesson; returns the document id."""
    add_corpus(client, name, kind="course", review="always", title=f"Cours {name}")
    fake_engine.reply = lambda request: "Les poumons échangent le dioxygène [1]."
    return add_document(client, name, "respiration.md", LUNGS)


def ask(client: TestClient, asker: Person, corpus: str, question: str) -> dict:
    response = client.post(
        "/api/v1/ask", headers=asker.headers, json={"corpus": corpus, "question": question}
    )
    assert response.status_code == 200, response.text
    return response.json()


def pending_review(client: TestClient, reviewer: Person, answer_id: str) -> dict:
    reviews = client.get("/api/v1/reviews?state=pending", headers=reviewer.headers).json()
    return next(r for r in reviews["reviews"] if r["answer_id"] == answer_id)
