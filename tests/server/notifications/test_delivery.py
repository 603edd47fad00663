"""Nothing lost, nothing twice: the outbox against a real SMTP server that goes down and
comes back, that refuses a recipient, and several workers sending side by side."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from database import Base, make_engine, make_session_factory, transaction
from server.notifications import service as notifications
from server.notifications.models import MessageKind, OutboxMessage, ReplyAddress
from server.notifications.outbox import back_off, queue_message
from server.notifications.worker import deliver_due
from tests.server.notifications.support import (
    START,
    Clock,
    course,
    held_question,
    worker,
)
from tests.smtp import SmtpServer
from tests.storage import Storage


def _queue(sessions: sessionmaker[Session], count: int, to: str = "a{n}@example.fr") -> None:
    with transaction(sessions) as session:
        for n in range(count):
            queue_message(
                session=session,
                kind=MessageKind.test,
                to=to.format(n=n),
                user_id=None,
                language="fr",
                subject=f"Message {n}",
                text=f"Corps {n}",
                html=f"<p>Corps {n}</p>",
                now=START,
            )


def _states(session: Session) -> Counter[str]:
    session.expire_all()
    return Counter(str(m.state) for m in session.scalars(select(OutboxMessage)))


def test_back_off_grows_to_an_hour() -> None:
    waits = [back_off(n).total_seconds() for n in (1, 2, 3, 4, 10, 19)]
    assert waits == [30, 60, 120, 240, 3600, 3600]


def test_smtp_down_for_a_minute_then_back_delivers_every_message_once(
    sessions: sessionmaker[Session],
    session: Session,
    smtp: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    school = course(session)
    notifier, clock = worker(sessions, smtp, tmp_path), Clock()
    held_question(session, school.corpus, school.student, "Avant la panne")
    notifier.round(clock.now)
    assert len(smtp.messages()) == 1

    smtp.stop()  # the administration's server goes down
    for n in range(3):
        held_question(session, school.corpus, school.student, f"Pendant la panne {n}")
    _queue(sessions, 4)
    caplog.set_level(logging.WARNING, logger="server.notifications")
    for _ in range(6):  # a round every ten seconds for a minute, all refused
        delivery = notifier.round(clock.now)
        assert delivery.sent == []
        clock.advance(seconds=10)
    assert _states(session)["queued"] == 7
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "queued")).all()
    assert all(m.last_error and "ConnectionRefused" in m.last_error for m in queued)
    assert any("not sent, next attempt" in r.getMessage() for r in caplog.records)
    # The log says why, never to whom.
    assert not any("@" in r.getMessage() for r in caplog.records)

    smtp.start()  # back, on the same port
    for _ in range(30):  # five more minutes of rounds: the back-off lets them through
        notifier.round(clock.advance(seconds=10))
    received = smtp.messages()
    assert len(received) == 1 + 7
    assert max(Counter(m.message_id for m in received).values()) == 1
    assert Counter(m.subject for m in received)["Message 0"] == 1
    assert _states(session) == Counter({"sent": 8})
    sent = session.scalars(select(OutboxMessage)).all()
    assert all(m.to_address is None and m.text_body == "" for m in sent)  # forgotten
    assert all(m.to_masked.startswith(("d•••@", "a•••@")) for m in sent)


def test_a_refused_recipient_fails_for_good_and_a_busy_one_waits(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    _queue(sessions, 6)
    smtp.refused.add("a3@example.fr")  # 550: no such mailbox
    smtp.busy.add("a4@example.fr")  # 451: try again later
    notifier = worker(sessions, smtp, tmp_path)

    first = deliver_due(sessions=sessions, smtp=notifier.smtp, now=START)
    assert (len(first.sent), len(first.delayed), len(first.failed)) == (4, 1, 1)
    failed = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "failed")).one()
    assert failed.last_error == "recipient refused (550)"
    assert failed.to_address is None and failed.attempts == 1  # given up, address forgotten
    waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "queued")).one()
    assert waiting.last_error == "recipient refused (451)"

    smtp.busy.clear()
    deliver_due(sessions=sessions, smtp=notifier.smtp, now=START + back_off(1))
    assert _states(session) == Counter({"sent": 5, "failed": 1})
    assert len(smtp.messages()) == 5


def test_several_workers_send_each_message_once(
    storage: Storage, smtp: SmtpServer, tmp_path: Path
) -> None:
    """Two workers, each with its own engine (as two processes or hosts would have), race
    on one outbox: every message goes out exactly once."""
    url = storage.database_url or f"sqlite:///{tmp_path / 'outbox.sqlite'}"
    engines = [make_engine(url) for _ in range(2)]
    Base.metadata.create_all(engines[0])
    try:
        factories = [make_session_factory(e) for e in engines]
        _queue(factories[0], 40)
        notifiers = [worker(f, smtp, tmp_path) for f in factories]
        barrier = threading.Barrier(len(notifiers))
        sent: list[list[int]] = [[] for _ in notifiers]

        def run(n: int) -> None:
            barrier.wait()
            for _ in range(3):
                sent[n].extend(notifiers[n].round(START).sent)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(notifiers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        received = smtp.messages()
        assert len(received) == 40
        assert len({m.message_id for m in received}) == 40
        assert sorted(sent[0] + sent[1]) == sorted(set(sent[0] + sent[1]))
        assert sent[0] and sent[1], "both workers should have had a share"
    finally:
        for engine in engines:
            engine.dispose()


def test_old_messages_and_unused_reply_addresses_are_forgotten(
    sessions: sessionmaker[Session], session: Session, smtp: SmtpServer, tmp_path: Path
) -> None:
    school = course(session)
    item = held_question(session, school.corpus, None, "Sans réponse", sid="citoyen-2")
    session.add(ReplyAddress(answer_id=item.answer_id, address="x@example.org", created_at=START))
    session.commit()
    _queue(sessions, 2)
    deliver_due(sessions=sessions, smtp=worker(sessions, smtp, tmp_path).smtp, now=START)
    _queue(sessions, 1)  # still waiting: never purged, however old
    with transaction(sessions) as tx:
        assert notifications.purge(session=tx, now=START + timedelta(days=29)) == (0, 0)
    with transaction(sessions) as tx:
        assert notifications.purge(session=tx, now=START + timedelta(days=91)) == (2, 1)
    assert _states(session) == Counter({"queued": 1})
