"""Removing a course member is logged once, whoever removes them (API, page)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from corpora.db import transaction
from corpora.repository import get_corpus
from server import courses
from server.accounts import Role, create_user
from server.audit import AuditEvent
from tests.helpers import add_corpus, state


def test_removal_is_recorded_once_and_only_when_it_happened(client: TestClient) -> None:
    add_corpus(client, "svt", kind="course", review="always")
    with transaction(state(client).sessions) as session:
        course = get_corpus(session=session, name="svt")
        assert course is not None
        teacher = create_user(session=session, name="prof", role=Role.teacher)
        student = create_user(session=session, name="eleve", role=Role.student)
        courses.add_student(session=session, corpus=course, student=student)
        removed = dict(
            session=session,
            corpus=course,
            user_id=student.id,
            membership="student",
            actor_id=teacher.id,
            source=None,
            via="web",
        )
        assert courses.remove_member_recorded(**removed) is True
        assert courses.remove_member_recorded(**removed) is False  # already gone
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "member_removed")
        ).all()
    assert [(e.actor_id, e.subject_id) for e in events] == [(teacher.id, student.id)]
