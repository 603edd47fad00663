"""Verified answers: saved on approval, reused for paraphrases, withdrawn on new versions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from corpora.repository import get_corpus
from database import transaction
from review.history import events
from review.models import Answer, AnswerStatus, VerifiedAnswer
from review.verified import apply_verified, find_verified, withdraw_for_document
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state
from tests.server.reviews.factory import CARTE, ask, pending_review, person

ASKED = "Quels documents faut-il fournir pour refaire une carte d'identité ?"
PARAPHRASE = "Pour refaire ma carte d'identité, quels documents faut-il fournir ?"
OTHER = "Combien de temps faut-il pour obtenir une carte d'identité ?"


def _verified(client: TestClient, fake_engine: FakeEngine) -> tuple[int, int]:
    """A verified answer on the mairie corpus; returns (verified id, document id)."""
    add_corpus(client, "mairie", review="always", title="Mairie de Test")
    document = add_document(client, "mairie", "carte-identite.md", CARTE)
    agent = person(client, "agent", "agent", "mairie", "owner")
    citizen = person(client, "habitant", "student")
    fake_engine.reply = lambda r: "Une photo d'identité de moins de 6 mois et un justificatif [1]."
    asked = ask(client, citizen, "mairie", ASKED)
    review = pending_review(client, agent, asked["answer_id"])
    approved = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=agent.headers,
        json={"version": review["version"], "save_verified": True},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["verified_answer_id"] is not None
    return approved.json()["verified_answer_id"], document


def test_paraphrase_gets_the_verified_answer(client: TestClient, fake_engine: FakeEngine) -> None:
    verified_id, document = _verified(client, fake_engine)
    app = state(client)
    with transaction(app.sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        match = find_verified(session=session, index=app.index, corpus=corpus, question=PARAPHRASE)
        assert match is not None and match.verified.id == verified_id
        assert match.approved_by_name == "agent" and match.approved_by_role == "agent"
        assert match.verified.sources[0].document_id == document
        assert (
            find_verified(session=session, index=app.index, corpus=corpus, question=OTHER) is None
        )
        # What the pipeline does with a match: released at once, linked to its source.
        answer = session.scalars(select(Answer).where(Answer.question == ASKED)).one()
        apply_verified(answer=answer, verified=match.verified)
        assert answer.status == AnswerStatus.released
        assert answer.verified_answer_id == verified_id
        assert answer.text == match.verified.text


def test_new_document_version_withdraws_it(client: TestClient, fake_engine: FakeEngine) -> None:
    verified_id, document = _verified(client, fake_engine)
    app = state(client)
    same = add_document(client, "mairie", "carte-identite.md", CARTE.replace("6 mois", "3 mois"))
    assert same == document
    # Indexing the new version withdrew it by itself (the document lifecycle's hook);
    # withdrawing again finds nothing left to do.
    with transaction(app.sessions) as session:
        assert withdraw_for_document(session=session, document_id=document, version=2) == []
    with transaction(app.sessions) as session:
        verified = session.get_one(VerifiedAnswer, verified_id)
        assert not verified.active and verified.withdrawn_reason == "document_updated"
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        assert (
            find_verified(session=session, index=app.index, corpus=corpus, question=PARAPHRASE)
            is None
        )
        assert [e.action for e, _, _ in events(session=session, corpus_ids=None)] == ["approve"]
