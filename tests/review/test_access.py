"""One rule for who may see, rate or escalate an answer (review/access.py), checked on rows
made by tests/factories.py: no app."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accounts.models import ApiToken, Role, User
from accounts.tokens import restrict_to_token
from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import get_corpus
from review.access import AnswerAction, AnswerHidden, can_access_answer, reachable_answer
from review.models import Answer
from tests.factories import make_answer, make_corpus, make_user

VIEW, FEEDBACK, ESCALATE = AnswerAction.view, AnswerAction.feedback, AnswerAction.escalate
ALL = (VIEW, FEEDBACK, ESCALATE)


def allowed(session: Session, answer: Answer, user: User | None, sid: str | None) -> set[str]:
    return {
        action.value
        for action in ALL
        if can_access_answer(
            session=session, answer=answer, user=user, session_id=sid, action=action
        )
    }


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    mairie = make_corpus(session=session, name="mairie")
    svt = make_corpus(
        session=session, name="svt", kind=CorpusKind.course, review=ReviewPolicy.always
    )
    return {
        "student": make_user(session=session, name="eleve", role=Role.student, studies=(svt,)),
        "classmate": make_user(session=session, name="voisin", role=Role.student, studies=(svt,)),
        "teacher": make_user(session=session, name="prof", role=Role.teacher, owns=(svt,)),
        "agent": make_user(session=session, name="agent", role=Role.agent, owns=(mairie,)),
        "admin": make_user(session=session, name="root", role=Role.admin),
    }


def test_an_anonymous_answer_belongs_to_its_browser_session(
    session: Session, people: dict[str, User]
) -> None:
    prefecture = make_corpus(session=session, name="prefecture")
    answer = make_answer(session=session, corpus=prefecture, session_id="browser-1")
    assert allowed(session, answer, None, "browser-1") == {"view", "feedback", "escalate"}
    assert allowed(session, answer, None, "browser-2") == set()
    assert allowed(session, answer, None, None) == set()
    # Signed in, one acts as one's account: the anonymous answers stay the session's.
    assert allowed(session, answer, people["student"], "browser-1") == set()
    # Reviewers of the corpus see it (the queue shows it to them); nobody else does.
    assert allowed(session, answer, people["admin"], None) == {"view"}
    assert allowed(session, answer, people["agent"], None) == set()  # not their corpus


def test_an_account_answer_belongs_to_its_account(
    session: Session, people: dict[str, User]
) -> None:
    course = get_corpus(session=session, name="svt")
    assert course is not None
    answer = make_answer(session=session, corpus=course, user=people["student"])
    assert allowed(session, answer, people["student"], None) == {"view", "feedback", "escalate"}
    assert allowed(session, answer, people["teacher"], None) == {"view"}
    assert allowed(session, answer, people["admin"], None) == {"view"}
    for outsider in ("classmate", "agent"):
        assert allowed(session, answer, people[outsider], None) == set(), outsider
    assert allowed(session, answer, None, None) == set()


def test_a_token_limited_to_other_corpora_reaches_none_of_them(
    session: Session, people: dict[str, User]
) -> None:
    course = get_corpus(session=session, name="svt")
    assert course is not None
    answer = make_answer(session=session, corpus=course, user=people["student"])
    student = people["student"]
    restrict_to_token(student, ApiToken(corpora=["mairie"]))
    assert allowed(session, answer, student, None) == set()
    restrict_to_token(student, ApiToken(corpora=["svt"]))
    assert allowed(session, answer, student, None) == {"view", "feedback", "escalate"}


def test_hidden_and_missing_answers_are_told_apart_by_nobody(
    session: Session, people: dict[str, User]
) -> None:
    mairie = make_corpus(session=session, name="ville")
    answer = make_answer(session=session, corpus=mairie, session_id="browser-1")
    for answer_id in (answer.id, "0" * 32):
        with pytest.raises(AnswerHidden):
            reachable_answer(
                session=session,
                answer_id=answer_id,
                user=people["student"],
                session_id=None,
                action=VIEW,
            )
    found = reachable_answer(
        session=session, answer_id=answer.id, user=None, session_id="browser-1", action=FEEDBACK
    )
    assert found.id == answer.id
