"""What the notification tests share: a clock they move by hand, a worker pointed at the
test SMTP server, and held questions put straight into the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Frequency, Role, User
from corpora.models import Corpus, CorpusKind, ReviewPolicy
from review.answers import enqueue
from review.models import AnswerStatus, ReviewItem
from review.policy import PRIORITY, Reason, flag
from server.notifications.worker import Notifier, build_notifier
from server.settings import Settings
from tests.factories import make_answer, make_corpus, make_user
from tests.smtp import SmtpServer

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The time the worker is told; it moves only when the test says so."""

    now: datetime = START

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def worker(
    sessions: sessionmaker[Session], smtp: SmtpServer, tmp_path: Path, **overrides: object
) -> Notifier:
    """The worker an app with these settings would run (not started: tests call round)."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "public_url": "https://guichet.example.fr",
        **smtp.settings(),
        **overrides,
    }
    notifier = build_notifier(Settings(**values), sessions)  # type: ignore[arg-type]
    assert notifier is not None
    return notifier


@dataclass
class Course:
    corpus: Corpus
    teacher: User
    student: User


def course(
    session: Session,
    *,
    teacher_notify: Frequency | None = Frequency.immediate,
    teacher_language: str = "fr",
) -> Course:
    corpus = make_corpus(
        session=session, name="svt", kind=CorpusKind.course, review=ReviewPolicy.always
    )
    teacher = make_user(session=session, name="prof.durand", role=Role.teacher, owns=(corpus,))
    teacher.email = "durand@lycee.example.fr"
    teacher.notify = teacher_notify
    teacher.language = teacher_language
    student = make_user(session=session, name="eleve.lina", role=Role.student, studies=(corpus,))
    student.email = "lina@eleves.example.fr"
    session.commit()
    return Course(corpus, teacher, student)


def held_question(
    session: Session, corpus: Corpus, asker: User | None, question: str, *, sid: str | None = None
) -> ReviewItem:
    """A question of ``asker`` (or of the anonymous browser ``sid``) waiting for review."""
    answer = make_answer(
        session=session,
        corpus=corpus,
        user=asker,
        session_id=sid,
        status=AnswerStatus.pending_review,
        question=question,
        text="La respiration cellulaire produit de l'énergie [1].",
        citations=[{"n": 1, "document_id": 1, "title": "Leçon 1 — La respiration"}],
    )
    item = enqueue(
        session=session,
        answer=answer,
        reasons=[flag(Reason.policy_always)],
        priority=PRIORITY[Reason.policy_always],
    )
    session.commit()
    return item
