"""The outbox: messages queued in the database, claimed by one worker at a time, sent once.

A worker claims a due message with one conditional ``UPDATE ... WHERE id = ? AND <still
due>``, as the review queue claims items: the row count says who won, on SQLite as on
PostgreSQL, so two workers (threads, processes or hosts) never both send it. A claim is
a lease: a worker that dies while sending leaves the message to be claimed again once
the lease has run out. (If it died after the server accepted the message but before
recording it, that message goes twice: no outbox can tell those two cases apart.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from accounts.contact import mask_address
from database import transaction
from server.notifications.mailer import Letter
from server.notifications.models import MessageKind, MessageState, OutboxMessage

LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 20  # about 16 hours of back-off before a message is given up
KEEP_DAYS = 30  # sent and failed messages stay this long on the admin page


def back_off(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min... at most an hour."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def queue_message(
    *,
    session: Session,
    kind: MessageKind,
    to: str,
    user_id: int | None,
    language: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    review_id: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> OutboxMessage:
    """Add a message to the outbox, in the caller's transaction."""
    message = OutboxMessage(
        kind=kind,
        user_id=user_id,
        to_address=to,
        to_masked=mask_address(to),
        language=language,
        subject=subject[:300],
        text_body=text,
        html_body=html,
        review_id=review_id,
        state=MessageState.queued,
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.state == MessageState.queued, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == MessageState.sending, OutboxMessage.claimed_until <= now),
    )


def due_ids(
    *, sessions: sessionmaker[Session], now: datetime, limit: int = 50, only: int | None = None
) -> list[int]:
    """Up to ``limit`` messages due now, oldest first (not claimed: see :func:`claim`)."""
    with sessions() as session:
        query = select(OutboxMessage.id).where(_due(now))
        if only is not None:
            query = query.where(OutboxMessage.id == only)
        return list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def claim(*, sessions: sessionmaker[Session], message_id: int, now: datetime) -> bool:
    """Take the message for this worker until the lease runs out; True if this worker won.

    Claimed one at a time, just before sending, so that a slow server never outlasts a
    lease taken for a whole batch.
    """
    with transaction(sessions) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(
                state=MessageState.sending,
                claimed_until=now + LEASE,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]


def letter_of(*, session: Session, message_id: int) -> Letter | None:
    """What to send for a claimed message (None if it vanished or lost its address)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.to_address is None:
        return None
    stamp = int(row.created_at.timestamp())
    return Letter(
        to=row.to_address,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        language=row.language,
        message_id=f"<guichet.{row.id}.{stamp}@guichet.invalid>",
    )


_FORGET = {"to_address": None, "text_body": "", "html_body": "", "claimed_until": None}


def mark_sent(*, session: Session, message_id: int, now: datetime) -> None:
    """Sent: the address and the text are forgotten, the masked address stays."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == MessageState.sending)
        .values(state=MessageState.sent, sent_at=now, last_error=None, **_FORGET)
        .execution_options(synchronize_session=False)
    )


def mark_unsent(
    *, session: Session, message_id: int, now: datetime, reason: str, permanent: bool
) -> tuple[MessageState, datetime | None]:
    """Not sent this time: queued again after the back-off, or given up; what became of it."""
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    if permanent or row.attempts >= row.max_attempts:
        values: dict[str, object] = {"state": MessageState.failed, **_FORGET}
        retry_at = None
    else:
        retry_at = now + back_off(row.attempts)
        values = {"state": MessageState.queued, "next_attempt_at": retry_at, "claimed_until": None}
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == MessageState.sending)
        .values(last_error=reason[:500], **values)
        .execution_options(synchronize_session=False)
    )
    return MessageState(str(values["state"])), retry_at


def recent(*, session: Session, limit: int = 30) -> Sequence[OutboxMessage]:
    """The latest messages, newest first (the admin page)."""
    return session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).all()


def counts(*, session: Session) -> dict[str, int]:
    """How many messages are in each state."""
    rows = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    found = {str(state): int(n) for state, n in rows}
    return {state.value: found.get(state.value, 0) for state in MessageState}


def purge(*, session: Session, now: datetime, keep_days: int = KEEP_DAYS) -> int:
    """Delete sent and failed messages older than ``keep_days``; how many went."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state.in_([MessageState.sent, MessageState.failed]),
            OutboxMessage.created_at < now - timedelta(days=keep_days),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
