"""The e-mail worker: a round every ``GUICHET_NOTIFY_INTERVAL_S`` seconds in each app
process — announce new items, send due digests, remind overdue items, tell askers, then
send what the outbox holds. Every step takes the time as an argument (``now``), so tests
drive it with a clock of their own.

An SMTP server that is down or refuses only delays messages: each failure is logged with
its reason (never an address) and the message is tried again after a growing wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Frequency
from database import transaction, utcnow
from server.notifications.askers import tell_askers
from server.notifications.context import Notices
from server.notifications.letters import Letters
from server.notifications.mailer import SendFailure, SmtpConfig, SmtpConnection
from server.notifications.models import MessageKind, MessageState, OutboxMessage
from server.notifications.outbox import (
    claim,
    due_ids,
    letter_of,
    mark_sent,
    mark_unsent,
    queue_message,
)
from server.notifications.reviewers import announce, remind_overdue, send_digests
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one round of sending did."""

    sent: list[int] = field(default_factory=list)
    delayed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliver_due(
    *,
    sessions: sessionmaker[Session],
    smtp: SmtpConfig,
    now: datetime,
    only: int | None = None,
) -> Delivery:
    """Send the due messages this worker manages to claim, over one connection."""
    done = Delivery()
    due = due_ids(sessions=sessions, now=now, only=only)
    if not due:
        return done
    connection = SmtpConnection(smtp)
    try:
        for message_id in due:
            if not claim(sessions=sessions, message_id=message_id, now=now):
                continue  # another worker has it
            with sessions() as session:
                letter = letter_of(session=session, message_id=message_id)
            if letter is None:
                continue
            try:
                connection.send(letter)
            except SendFailure as failure:
                with transaction(sessions) as session:
                    state, retry_at = mark_unsent(
                        session=session,
                        message_id=message_id,
                        now=now,
                        reason=failure.reason,
                        permanent=failure.permanent,
                    )
                if state == MessageState.failed:
                    done.failed.append(message_id)
                    log.error("e-mail %s given up: %s", message_id, failure.reason)
                else:
                    done.delayed.append(message_id)
                    log.warning(
                        "e-mail %s not sent, next attempt at %s: %s",
                        message_id,
                        retry_at.isoformat() if retry_at else "?",
                        failure.reason,
                    )
                continue
            with transaction(sessions) as session:
                mark_sent(session=session, message_id=message_id, now=now)
            done.sent.append(message_id)
    finally:
        connection.close()
    if done.sent:
        log.info("%d e-mail(s) sent", len(done.sent))
    return done


def send_test(
    *,
    sessions: sessionmaker[Session],
    letters: Letters,
    smtp: SmtpConfig,
    address: str,
    language: str,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue a test message to ``address`` and try it once, at once; the message after
    that attempt (sent, or failed with its reason; still queued if no worker could try)."""
    now = now or utcnow()
    letter = letters.render(MessageKind.test, language=language, account=False)
    with transaction(sessions) as session:
        message = queue_message(
            session=session,
            kind=MessageKind.test,
            to=address,
            user_id=None,
            language=language,
            subject=letter.subject,
            text=letter.text,
            html=letter.html,
            now=now,
            max_attempts=1,
        )
    deliver_due(sessions=sessions, smtp=smtp, now=now, only=message.id)
    # A running app's worker may have taken it first: wait for its verdict.
    deadline = time.monotonic() + 2 * smtp.timeout_s
    while True:
        with sessions() as session:
            found = session.get_one(OutboxMessage, message.id)
        if found.state in (MessageState.sent, MessageState.failed):
            return found
        if time.monotonic() > deadline:
            return found
        time.sleep(0.1)


class Notifier:
    """Runs :meth:`round` in a daemon thread until stopped."""

    def __init__(
        self,
        *,
        notices: Notices,
        smtp: SmtpConfig,
        interval_s: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.notices = notices
        self.smtp = smtp
        self.interval_s = interval_s
        self.clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="guichet-notify", daemon=True)

    def round(self, now: datetime | None = None) -> Delivery:
        """Every step once; a failing step is logged and the others still run."""
        now = now or self.clock()
        steps = (announce, send_digests, remind_overdue, tell_askers)
        for step in steps:
            try:
                step(self.notices, now)
            except Exception:  # noqa: BLE001 - one bad step must not stop e-mail
                log.exception("notification step %s failed", step.__name__)
        try:
            return deliver_due(sessions=self.notices.sessions, smtp=self.smtp, now=now)
        except Exception:  # noqa: BLE001
            log.exception("sending the outbox failed")
            return Delivery()

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._wake.wait(self.interval_s)
            self._wake.clear()


def build_notifier(settings: Settings, sessions: sessionmaker[Session]) -> Notifier | None:
    """The worker of this instance, or None when e-mail is off (no SMTP server set)."""
    smtp = SmtpConfig.from_settings(settings)
    if smtp is None:
        return None
    notices = Notices(
        sessions=sessions,
        letters=Letters(base_url=settings.base_url),
        default=Frequency(settings.notify_default),
        overdue_after=timedelta(minutes=settings.review_overdue_minutes),
    )
    return Notifier(notices=notices, smtp=smtp, interval_s=settings.notify_interval_s)
