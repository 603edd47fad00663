"""Withdrawing verified answers when what they cite changes (rows from tests/factories.py;
the reuse through the API is in tests/server/reviews/test_verified_reuse.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from retrieval.index import SearchIndex
from review import verified as verified_module
from review.models import VerifiedAnswer
from review.verified import (
    find_verified,
    index_name,
    index_verified,
    lexical_similarity,
    match_score,
    withdraw_for_document,
)
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


def test_a_looser_paraphrase_is_served_only_when_the_same_document_answers_it(
    session: Session, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    mairie = make_corpus(session=session)
    carte = make_document(session=session, corpus=mairie, filename="carte.md")
    passeport = make_document(session=session, corpus=mairie, filename="passeport.md")
    verified = make_verified(session=session, corpus=mairie, cites=((carte, 1),))
    index_verified(index=index, corpus=mairie.name, verified=verified)
    asked = "Que faut-il apporter pour faire sa carte d'identité ?"
    (candidate,) = index.search(corpus=index_name(mairie.name), query=asked, k=1)
    score = match_score(
        candidate.dense_score or 0.0, lexical_similarity(asked, candidate.chunk.text)
    )
    # Thresholds around this pair's real score: too far for wording alone, close enough
    # when the asker's best passage is in the document the verified answer cites.
    monkeypatch.setattr(verified_module, "MATCH_THRESHOLD", score + 0.01)
    monkeypatch.setattr(verified_module, "SAME_SOURCE_THRESHOLD", score - 0.01)

    def find(best_document: int | None) -> VerifiedAnswer | None:
        match = find_verified(
            session=session, index=index, corpus=mairie, question=asked, best_document=best_document
        )
        return match.verified if match else None

    assert find(carte.id) == verified
    assert find(passeport.id) is None
    assert find(None) is None
