"""Reviewers hear of new items (at once or in a digest) and owners of overdue ones, through
a real SMTP server on 127.0.0.1, with a clock the test moves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Frequency, Role
from review import queue
from server.notifications.models import OutboxMessage
from tests.factories import make_user
from tests.server.notifications.support import (
    START,
    Clock,
    course,
    held_question,
    worker,
)
from tests.smtp import SmtpServer

TEACHER = "durand@lycee.example.fr"


def test_a_new_item_reaches_its_teacher_at_once_with_a_link_and_the_settings(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    item = held_question(session, school.corpus, school.student, "Où a lieu la respiration ?")
    notifier = worker(sessions, smtp, tmp_path)

    notifier.round(START)

    [mail] = smtp.messages(TEACHER)
    assert mail.subject == "[Guichet] Une question attend votre relecture (Svt)"
    assert mail.message["Content-Language"] == "fr"
    link = f"https://guichet.example.fr/relecture/{item.id}"
    settings_link = "https://guichet.example.fr/account#notifications"
    for body in (mail.text, mail.html):
        assert "Où a lieu la respiration ?" in body
        assert link in body and settings_link in body
        assert "Relecture systématique" in body  # why it is held
    # Nothing about the asker beyond the (already masked) question.
    assert "eleve.lina" not in mail.text + mail.html
    assert "lina@" not in mail.text + mail.html
    assert '<html lang="fr">' in mail.html

    notifier.round(START)  # a second round tells nobody again
    assert len(smtp.messages(TEACHER)) == 1


def test_a_reviewer_reading_english_gets_english(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session, teacher_language="en")
    held_question(session, school.corpus, school.student, "Où a lieu la respiration ?")
    worker(sessions, smtp, tmp_path).round(START)
    [mail] = smtp.messages(TEACHER)
    assert mail.subject == "[Guichet] A question is waiting for your review (Svt)"
    assert "To change your notification settings: https://" in mail.text
    assert '<html lang="en">' in mail.html


def test_five_items_in_an_hour_make_one_digest_listing_five(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session, teacher_notify=Frequency.hourly)
    # No overdue reminder in this test: only the digest.
    notifier = worker(sessions, smtp, tmp_path, review_overdue_minutes=10_000)
    clock = Clock()
    items = []
    for n in range(5):
        items.append(held_question(session, school.corpus, school.student, f"Question n°{n}"))
        notifier.round(clock.now)
        clock.advance(minutes=12)  # 0, 12, 24, 36, 48 min
    notifier.round(START.replace(minute=59))
    assert smtp.messages(TEACHER) == []  # nothing before the hour is up

    notifier.round(START.replace(hour=10))
    [digest] = smtp.messages(TEACHER)
    assert digest.subject == "[Guichet] Questions à relire : 5"
    assert "Nouvelles questions à relire dans l'heure écoulée : 5." in digest.text
    for n, item in enumerate(items):
        assert f"Question n°{n}" in digest.text
        assert f"https://guichet.example.fr/relecture/{item.id}" in digest.html
    assert "https://guichet.example.fr/account#notifications" in digest.html

    notifier.round(START.replace(hour=12))
    assert len(smtp.messages(TEACHER)) == 1  # the entries went out once
    assert smtp.messages(TEACHER)[0].message["Content-Language"] == "fr"


def test_the_default_frequency_applies_to_those_who_have_not_chosen(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session, teacher_notify=None)
    held_question(session, school.corpus, school.student, "Première question")
    notifier = worker(
        sessions, smtp, tmp_path, notify_default="daily", review_overdue_minutes=10_000
    )
    notifier.round(START)
    notifier.round(START.replace(hour=23))
    assert smtp.messages(TEACHER) == []
    notifier.round(START.replace(day=24))
    [digest] = smtp.messages(TEACHER)
    assert "dans la journée écoulée : 1." in digest.text


def test_items_decided_before_the_digest_are_left_out_and_off_means_nothing(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session, teacher_notify=Frequency.hourly)
    agent = make_user(session=session, name="agent.off", role=Role.teacher, owns=(school.corpus,))
    agent.email, agent.notify = "off@lycee.example.fr", Frequency.off
    session.commit()
    notifier = worker(sessions, smtp, tmp_path, review_overdue_minutes=10_000)
    first = held_question(session, school.corpus, school.student, "Déjà relue")
    held_question(session, school.corpus, school.student, "Encore ouverte")
    notifier.round(START)
    queue.reject(
        session=session,
        item_id=first.id,
        version=first.version,
        user_id=school.teacher.id,
        reason="Hors sujet",
        now=START,
    )
    session.commit()
    notifier.round(START.replace(hour=10))
    [digest] = smtp.messages(TEACHER)
    assert "Encore ouverte" in digest.text and "Déjà relue" not in digest.text
    assert smtp.messages("off@lycee.example.fr") == []


def test_owners_are_reminded_once_when_an_item_is_overdue(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session, teacher_notify=Frequency.daily)
    item = held_question(session, school.corpus, school.student, "Qui m'aide ?")
    notifier, clock = worker(sessions, smtp, tmp_path, review_overdue_minutes=90), Clock()
    notifier.round(clock.now)
    notifier.round(clock.advance(minutes=89))
    assert smtp.messages(TEACHER) == []

    notifier.round(clock.advance(minutes=1))
    [reminder] = smtp.messages(TEACHER)  # at once, although this teacher reads digests
    assert reminder.subject == "[Guichet] Une question attend depuis 1 h 30 min (Svt)"
    assert f"https://guichet.example.fr/relecture/{item.id}" in reminder.text

    notifier.round(clock.advance(hours=5))
    assert len(smtp.messages(TEACHER)) == 1


def test_an_asker_who_reviews_the_corpus_is_not_told_of_their_own_question(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    held_question(session, school.corpus, school.teacher, "Ma propre question")
    worker(sessions, smtp, tmp_path).round(START)
    assert smtp.messages() == []
    assert session.scalars(select(OutboxMessage)).all() == []
