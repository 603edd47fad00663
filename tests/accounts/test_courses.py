"""Course membership and invitations are logged once, whoever changes them (API, page, CLI)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts import audit, courses
from accounts.audit import AuditEvent
from accounts.errors import AccountError
from accounts.models import Role, User
from accounts.users import create_user
from corpora.models import Corpus, CorpusKind, ReviewPolicy
from database import transaction
from tests.factories import make_corpus


def course_with_people(session: Session) -> tuple[Corpus, User, User]:
    """The course "svt", with a new teacher and a new student."""
    course = make_corpus(
        session=session, name="svt", kind=CorpusKind.course, review=ReviewPolicy.always
    )
    teacher = create_user(session=session, name="prof", role=Role.teacher)
    student = create_user(session=session, name="eleve", role=Role.student)
    return course, teacher, student


def test_removal_is_recorded_once_and_only_when_it_happened(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        course, teacher, student = course_with_people(session)
        courses.add_student(session=session, corpus=course, student=student)
        removed = dict(
            session=session,
            corpus=course,
            user_id=student.id,
            membership="student",
            by=audit.Actor(id=teacher.id, via="web"),
        )
        assert courses.remove_member_recorded(**removed) is True
        assert courses.remove_member_recorded(**removed) is False  # already gone
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "member_removed")
        ).all()
    assert [(e.actor_id, e.subject_id) for e in events] == [(teacher.id, student.id)]


def test_adding_is_recorded_once_with_the_membership_and_the_interface(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        course, teacher, student = course_with_people(session)
        shell = audit.Actor(id=None, via="cli")
        add = dict(session=session, corpus=course)
        with pytest.raises(AccountError, match="owner_role_mismatch"):
            courses.add_member_recorded(**add, user=student, membership="owner", by=shell)
        courses.add_member_recorded(**add, user=teacher, membership="owner", by=shell)
        courses.add_member_recorded(
            **add,
            user=student,
            membership="student",
            by=audit.Actor(id=teacher.id, via="api", source="abcd"),
        )
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "member_added").order_by(AuditEvent.id)
        ).all()
    assert [(e.actor_id, e.subject_id, e.corpus, e.source, e.detail) for e in events] == [
        (None, teacher.id, "svt", None, {"membership": "owner", "via": "cli"}),
        (teacher.id, student.id, "svt", "abcd", {"membership": "student", "via": "api"}),
    ]


def test_disabling_an_invitation_is_recorded_only_when_there_was_one(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        course, teacher, _ = course_with_people(session)
        by = audit.Actor(id=teacher.id, via="web")
        invitation = courses.rotate_invitation_recorded(session=session, corpus=course, by=by)
        assert invitation.created_by == teacher.id
        assert courses.disable_invitation_recorded(session=session, corpus=course, by=by) is True
        assert courses.disable_invitation_recorded(session=session, corpus=course, by=by) is False
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.event, e.actor_id, e.corpus, e.detail) for e in events] == [
        ("invitation_rotated", teacher.id, "svt", {"via": "web"}),
        ("invitation_disabled", teacher.id, "svt", {"via": "web"}),
    ]
