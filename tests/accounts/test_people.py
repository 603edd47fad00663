"""accounts/ on its own rows: people shown by name and role, the permission rule."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.people import Person, people
from accounts.permissions import Action, can
from corpora.models import CorpusKind, ReviewPolicy
from tests.factories import make_corpus, make_user


def test_people_are_read_from_the_users_table(session: Session) -> None:
    prof = make_user(session=session, name="prof", role=Role.teacher)
    assert people(session=session, ids=[prof.id, None, 999]) == {
        prof.id: Person(prof.id, "prof", "teacher")
    }
    assert people(session=session, ids=[]) == {}


def test_courses_are_for_their_members_and_procedures_for_all(session: Session) -> None:
    mairie = make_corpus(session=session)
    svt = make_corpus(
        session=session, name="svt", kind=CorpusKind.course, review=ReviewPolicy.always
    )
    prof = make_user(session=session, name="prof", role=Role.teacher, owns=(svt,))
    eleve = make_user(session=session, name="eleve", role=Role.student, studies=(svt,))
    agent = make_user(session=session, name="agent", role=Role.agent, owns=(mairie,))
    assert can(session=session, user=None, action=Action.ask, corpus=mairie)
    assert not can(session=session, user=None, action=Action.ask, corpus=svt)
    assert can(session=session, user=eleve, action=Action.ask, corpus=svt)
    assert not can(session=session, user=eleve, action=Action.review, corpus=svt)
    assert can(session=session, user=prof, action=Action.review, corpus=svt)
    assert can(session=session, user=agent, action=Action.manage_documents, corpus=mairie)
    assert not can(session=session, user=agent, action=Action.ask, corpus=svt)
