"""Askers hear the decision on their held question: the approved text, or the reason."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from review import queue
from review.feedback import request_human
from review.models import Answer
from server.notifications.models import OutboxMessage, ReplyAddress
from tests.server.notifications.support import (
    START,
    Clock,
    course,
    held_question,
    worker,
)
from tests.smtp import SmtpServer

STUDENT = "lina@eleves.example.fr"


def test_the_student_gets_the_approved_text_with_its_sources(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    item = held_question(session, school.corpus, school.student, "Où a lieu la respiration ?")
    notifier, clock = worker(sessions, smtp, tmp_path), Clock()
    notifier.round(clock.now)
    queue.approve(
        session=session,
        item_id=item.id,
        version=item.version,
        user_id=school.teacher.id,
        text="Dans les mitochondries des cellules [1].",
        now=clock.advance(minutes=5),
    )
    session.commit()
    notifier.round(clock.now)

    [mail] = smtp.messages(STUDENT)
    assert mail.subject == "[Guichet] La réponse à votre question"
    assert "Dans les mitochondries des cellules [1]." in mail.text
    assert "Leçon 1 — La respiration" in mail.text and "Leçon 1 — La respiration" in mail.html
    assert "https://guichet.example.fr/mes-questions" in mail.text
    assert "https://guichet.example.fr/account#notifications" in mail.html
    notifier.round(clock.advance(minutes=5))
    assert len(smtp.messages(STUDENT)) == 1


def test_a_rejection_carries_the_reason_and_an_opted_out_student_hears_nothing(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    first = held_question(session, school.corpus, school.student, "Question hors sujet")
    notifier = worker(sessions, smtp, tmp_path)
    queue.reject(
        session=session,
        item_id=first.id,
        version=first.version,
        user_id=school.teacher.id,
        reason="Cette question ne porte pas sur le cours.",
        now=START,
    )
    session.commit()
    notifier.round(START)
    [mail] = smtp.messages(STUDENT)
    assert mail.subject == "[Guichet] Votre question a été relue"
    assert "Motif : Cette question ne porte pas sur le cours." in mail.text
    assert "relue par l'enseignant du cours" in mail.text  # #17: in a course, the teacher
    assert "agent" not in mail.text

    school.student.notify_replies = False
    session.commit()
    second = held_question(session, school.corpus, school.student, "Une autre question")
    queue.reject(
        session=session,
        item_id=second.id,
        version=second.version,
        user_id=school.teacher.id,
        reason="Non.",
        now=START,
    )
    session.commit()
    notifier.round(START)
    assert len(smtp.messages(STUDENT)) == 1


def test_a_citizens_address_is_used_once_then_forgotten(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    item = held_question(session, school.corpus, None, "Horaires ?", sid="citoyen-1")
    session.add(ReplyAddress(answer_id=item.answer_id, address="jeanne@example.org"))
    session.commit()
    notifier = worker(sessions, smtp, tmp_path)
    queue.approve(session=session, item_id=item.id, version=item.version, user_id=school.teacher.id)
    session.commit()
    notifier.round(START)

    [mail] = smtp.messages("jeanne@example.org")
    assert "La respiration cellulaire produit de l'énergie [1]." in mail.text
    assert "Votre adresse a été effacée de Guichet" in mail.text
    assert "account#notifications" not in mail.text  # a citizen has no settings
    assert session.get(ReplyAddress, item.answer_id) is None
    stored = session.scalars(select(OutboxMessage)).all()
    assert all(m.to_address is None for m in stored)
    assert "jeanne@example.org" not in {m.to_masked for m in stored}


def test_a_question_opened_again_is_announced_and_told_again(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    item = held_question(session, school.corpus, school.student, "Encore ?")
    notifier = worker(sessions, smtp, tmp_path)
    notifier.round(START)
    queue.approve(session=session, item_id=item.id, version=item.version, user_id=school.teacher.id)
    session.commit()
    notifier.round(START)
    request_human(session=session, answer=session.get_one(Answer, item.answer_id))
    session.commit()
    notifier.round(START)
    assert len(smtp.messages("durand@lycee.example.fr")) == 2
    assert len(smtp.messages(STUDENT)) == 1
