"""Queue operations at the service layer, on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Role
from corpora.models import CorpusKind, ReviewPolicy
from database import transaction, utcnow
from review import queue
from review.models import AnswerStatus, ReviewItem, ReviewState
from review.policy import sensitive_topic
from tests.factories import make_answer, make_corpus, make_review_item, make_user

LUNGS = "Les poumons échangent le dioxygène et le dioxyde de carbone."


def _held(sessions: sessionmaker[Session]) -> tuple[int, int, int, int]:
    """An answer held for review; returns (item id, version, teacher id, colleague id)."""
    with transaction(sessions) as session:
        svt = make_corpus(
            session=session, name="svt", kind=CorpusKind.course, review=ReviewPolicy.always
        )
        teacher = make_user(session=session, name="prof", role=Role.teacher, owns=(svt,))
        colleague = make_user(session=session, name="collegue", role=Role.teacher, owns=(svt,))
        student = make_user(session=session, name="eleve", role=Role.student, studies=(svt,))
        answer = make_answer(
            session=session,
            corpus=svt,
            user=student,
            status=AnswerStatus.pending_review,
            question="Que font les poumons ?",
            text="Les poumons échangent le dioxygène [1].",
            citations=[{"n": 1, "document_id": 1, "title": "Respiration", "excerpt": LUNGS}],
        )
        item = make_review_item(session=session, answer=answer)
        return item.id, item.version, teacher.id, colleague.id


def test_claim_lease_expires(sessions: sessionmaker[Session]) -> None:
    item_id, version, teacher, colleague = _held(sessions)
    t0 = utcnow()
    with transaction(sessions) as session:
        item = queue.claim(
            session=session, item_id=item_id, version=version, user_id=teacher, now=t0
        )
        assert item.claim_expires_at == t0 + queue.CLAIM_LEASE
        version = item.version
    with transaction(sessions) as session, pytest.raises(queue.ClaimedByOther) as taken:
        queue.claim(
            session=session,
            item_id=item_id,
            version=version,
            user_id=colleague,
            now=t0 + timedelta(minutes=5),
        )
    assert taken.value.details["claimed_by"] == teacher
    with transaction(sessions) as session:
        listed = queue.list_items(
            session=session,
            corpus_ids=None,
            state=ReviewState.pending,
            now=t0 + timedelta(minutes=16),
        )
        assert [i.id for i in listed] == [item_id]
        assert queue.effective_state(listed[0], t0 + timedelta(minutes=16)) == ReviewState.pending
        item = queue.claim(
            session=session,
            item_id=item_id,
            version=version,
            user_id=colleague,
            now=t0 + timedelta(minutes=16),
        )
        assert item.claimed_by == colleague
        assert [e.action for e in item.events] == ["claim", "claim"]


def test_stale_version_and_decided_items_are_refused(sessions: sessionmaker[Session]) -> None:
    item_id, version, teacher, _ = _held(sessions)
    with transaction(sessions) as session:
        queue.approve(session=session, item_id=item_id, version=version, user_id=teacher)
    with transaction(sessions) as session, pytest.raises(queue.StaleVersion):
        queue.reject(
            session=session, item_id=item_id, version=version, user_id=teacher, reason="non"
        )
    with transaction(sessions) as session, pytest.raises(queue.AlreadyDecided):
        queue.claim(session=session, item_id=item_id, version=version + 1, user_id=teacher)
    with transaction(sessions) as session, pytest.raises(queue.ReviewNotFound):
        queue.claim(session=session, item_id=9999, version=1, user_id=teacher)


def test_edited_text_keeps_only_valid_citations(sessions: sessionmaker[Session]) -> None:
    item_id, version, teacher, _ = _held(sessions)
    with transaction(sessions) as session:
        item = queue.approve(
            session=session,
            item_id=item_id,
            version=version,
            user_id=teacher,
            text="Les poumons [1] oxygènent le sang [4] [12].",
        )
        answer = item.answer
        assert answer.status == AnswerStatus.released
        assert answer.text == "Les poumons [1] oxygènent le sang."
        assert [c["n"] for c in answer.citations] == [1]
        assert answer.decided_at is not None and item.edited
        assert item.events[-1].note == "[4] [12]"
        assert item.events[-1].before_text == "Les poumons échangent le dioxygène [1]."
    with transaction(sessions) as session:
        item = session.get_one(ReviewItem, item_id)
        with pytest.raises(queue.InvalidDecision):
            queue.final_text(item.answer, " [7] ")


def test_concurrent_approvals_with_two_sessions(sessions: sessionmaker[Session]) -> None:
    item_id, version, teacher, colleague = _held(sessions)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def approve(user_id: int) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as session:
                queue.approve(
                    session=session,
                    item_id=item_id,
                    version=version,
                    user_id=user_id,
                    text=f"Texte de {user_id} [1].",
                )
            outcomes[user_id] = "won"
        except queue.StaleVersion:
            outcomes[user_id] = "stale"

    threads = [threading.Thread(target=approve, args=(u,)) for u in (teacher, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["stale", "won"]
    winner = next(u for u, o in outcomes.items() if o == "won")
    with transaction(sessions) as session:
        item = session.get_one(ReviewItem, item_id)
        assert item.decided_by == winner and item.version == version + 1
        assert item.answer.text == f"Texte de {winner} [1]."
        assert len(item.events) == 1


def test_sensitive_topics_match_stems_not_substrings() -> None:
    assert sensitive_topic("J'ai été harcelé au collège", ["harcèlement"]) == {
        "code": "sensitive_topic",
        "detail": "harcèlement",
    }
    assert sensitive_topic("Violence conjugale : que faire ?", ["violences conjugales"])
    assert sensitive_topic("Mon conjoint est violent", ["violences conjugales"]) is None
    assert sensitive_topic("Quels papiers pour la carte ?", []) is None
