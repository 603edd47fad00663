"""Withdrawing verified answers when what they cite changes (rows from tests/factories.py;
the reuse through the API is in tests/server/reviews/test_verified_reuse.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from review.models import VerifiedAnswer
from review.verified import withdraw_for_document
from tests.factories import make_corpus, make_document, make_verified


def test_a_new_version_withdraws_what_cited_an_older_one(session: Session) -> None:
    mairie = make_corpus(session=session)
    carte = make_document(session=session, corpus=mairie, filename="carte.md", versions=2)
    passeport = make_document(session=session, corpus=mairie, filename="passeport.md")
    old = make_verified(session=session, corpus=mairie, cites=((carte, 1),))
    current = make_verified(session=session, corpus=mairie, cites=((carte, 2),))
    elsewhere = make_verified(session=session, corpus=mairie, cites=((passeport, 1),))
    assert withdraw_for_document(session=session, document_id=carte.id, version=2) == [old.id]
    assert withdraw_for_document(session=session, document_id=carte.id, version=2) == []
    assert [v.active for v in (old, current, elsewhere)] == [False, True, True]
    assert old.withdrawn_reason == "document_updated" and old.withdrawn_at is not None


def test_a_deleted_document_withdraws_every_answer_citing_it(session: Session) -> None:
    mairie = make_corpus(session=session)
    carte = make_document(session=session, corpus=mairie, versions=2)
    both = [make_verified(session=session, corpus=mairie, cites=((carte, v),)) for v in (1, 2)]
    withdrawn = withdraw_for_document(
        session=session, document_id=carte.id, version=None, reason="document_deleted"
    )
    assert withdrawn == [v.id for v in both]
    rows = [session.get_one(VerifiedAnswer, v.id) for v in both]
    assert {(r.active, r.withdrawn_reason) for r in rows} == {(False, "document_deleted")}
