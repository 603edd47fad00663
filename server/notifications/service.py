"""Notifications as the pages, the API and the CLI share them: a citizen's reply address,
what reviewers see of it, and the outbox as the admin page shows it.

Plain Python: no FastAPI here. A bad address is ``AccountError("invalid_email")``, an
address given while e-mail is off ``AccountError("email_off")``; server/errors.py maps both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from accounts.contact import clean_address, mask_address
from accounts.errors import AccountError
from accounts.people import people
from review.models import Answer
from server.notifications import outbox
from server.notifications.models import OutboxMessage, ReplyAddress
from server.settings import Settings

# A reply address whose question was never answered is not kept for ever.
REPLY_ADDRESS_KEEP_DAYS = 90


def keep_reply_address(
    *, session: Session, settings: Settings, answer: Answer, address: str | None, language: str
) -> bool:
    """Keep the address a citizen left for the reply to ``answer`` (replacing an earlier
    one); False when none was given. Never logged, never shown in full."""
    cleaned = clean_address(address)
    if cleaned is None:
        return False
    if not settings.email_enabled:
        raise AccountError("email_off")
    kept = session.get(ReplyAddress, answer.id)
    if kept is None:
        session.add(ReplyAddress(answer_id=answer.id, address=cleaned, language=language))
    else:
        kept.address, kept.language = cleaned, language
    session.flush()
    return True


def masked_reply_address(*, session: Session, answer_id: str) -> str | None:
    """What a reviewer sees of the address waiting for the reply: « j•••@e•••.org »."""
    kept = session.get(ReplyAddress, answer_id)
    return mask_address(kept.address) if kept else None


@dataclass(frozen=True)
class OutboxLine:
    """One message as the admin page lists it: never the address, only its masked form."""

    id: int
    kind: str
    recipient: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class OutboxView:
    enabled: bool
    server: str | None
    counts: dict[str, int]
    lines: list[OutboxLine]


def outbox_view(*, session: Session, settings: Settings, limit: int = 30) -> OutboxView:
    rows: list[OutboxMessage] = list(outbox.recent(session=session, limit=limit))
    names = people(session=session, ids=[r.user_id for r in rows])
    server = f"{settings.smtp_host}:{settings.smtp_port or ''}".rstrip(":")
    return OutboxView(
        enabled=settings.email_enabled,
        server=server if settings.email_enabled else None,
        counts=outbox.counts(session=session),
        lines=[
            OutboxLine(
                id=r.id,
                kind=r.kind.value,
                recipient=(
                    f"{names[r.user_id].name} ({r.to_masked})"
                    if r.user_id in names
                    else r.to_masked
                ),
                state=r.state.value,
                attempts=r.attempts,
                created_at=r.created_at,
                next_attempt_at=r.next_attempt_at if r.state.value == "queued" else None,
                sent_at=r.sent_at,
                last_error=r.last_error,
            )
            for r in rows
        ],
    )


def purge(*, session: Session, now: datetime) -> tuple[int, int]:
    """Old sent and failed messages, and reply addresses never used; how many of each."""
    messages = outbox.purge(session=session, now=now)
    cutoff = now - timedelta(days=REPLY_ADDRESS_KEEP_DAYS)
    result = session.execute(delete(ReplyAddress).where(ReplyAddress.created_at < cutoff))
    return messages, int(result.rowcount or 0)  # type: ignore[attr-defined]
