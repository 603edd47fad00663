"""The audit log: who signed in, which tokens were made, used and revoked, who changed rights.

It holds no more personal data than needed: user ids (and, in ``detail``, the names of
staff accounts or roles), never passwords, tokens or addresses. The caller's address is
kept only as a keyed hash, truncated, so that repeated failures from one place can be
told apart without knowing the place. A failed sign-in under an unknown name records no
name at all: people type passwords into the name field. Events are kept for
``GUICHET_AUDIT_RETENTION_DAYS`` (a year by default), then deleted by the running app.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from database import Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)


class Event(enum.StrEnum):
    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    sign_out = "sign_out"
    password_changed = "password_changed"
    token_created = "token_created"
    token_used = "token_used"
    token_revoked = "token_revoked"
    user_created = "user_created"
    role_changed = "role_changed"
    user_activated = "user_activated"
    user_deactivated = "user_deactivated"
    member_added = "member_added"
    member_removed = "member_removed"
    invitation_rotated = "invitation_rotated"
    invitation_disabled = "invitation_disabled"
    course_joined = "course_joined"
    corpus_created = "corpus_created"
    # The address or notification settings of an account changed (never the address itself).
    contact_changed = "contact_changed"
    source_added = "source_added"
    source_removed = "source_removed"
    source_sync_requested = "source_sync_requested"
    source_synced = "source_synced"
    # What staff do to the service's content (issue #17).
    document_uploaded = "document_uploaded"
    document_deleted = "document_deleted"
    review_approved = "review_approved"
    review_rejected = "review_rejected"
    open_data_changed = "open_data_changed"


class AuditEvent(Base):
    """One line of the audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    corpus: Mapped[str | None] = mapped_column(String(64), default=None)
    token_id: Mapped[int | None] = mapped_column(Integer, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str | None] = mapped_column(String(16), default=None)


# Keys a detail may hold; anything else is dropped so that no caller can leak a secret
# into the log by mistake.
_DETAIL_KEYS = {
    "role",
    "from_role",
    "to_role",
    "membership",
    "name",
    "days",
    "corpora",
    "via",
    # Sources and their runs (counts and codes only: never a URL's credentials or a path).
    "source_id",
    "kind",
    "status",
    "trigger",
    "confirm_removals",
    "added",
    "updated",
    "unchanged",
    "removed",
    "failed",
    "error_code",
    # Documents, review decisions, open data: ids and flags only (a file name may name people).
    "document_id",
    "version",
    "review_id",
    "edited",
    "published",
}


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who does an audited action, and from where.

    ``id`` is None from the shell (whoever may run the command on the server);
    ``via`` names the interface: ``api``, ``web`` or ``cli``;
    ``source`` is a keyed hash of the caller's address (the web layer makes it), None
    from the shell.
    """

    id: int | None
    via: str
    source: str | None = None


def record(
    *,
    session: Session,
    event: Event,
    actor_id: int | None = None,
    subject_id: int | None = None,
    corpus: str | None = None,
    token_id: int | None = None,
    source: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one event to the log, in the caller's transaction."""
    row = AuditEvent(
        event=event.value,
        actor_id=actor_id,
        subject_id=subject_id,
        corpus=corpus,
        token_id=token_id,
        source=source,
        detail={k: v for k, v in detail.items() if k in _DETAIL_KEYS and v is not None},
    )
    session.add(row)
    session.flush()
    log.info("audit %s actor=%s subject=%s corpus=%s", event.value, actor_id, subject_id, corpus)
    return row


def record_action(
    *,
    session: Session,
    event: Event,
    by: Actor,
    subject_id: int | None = None,
    corpus: str | None = None,
    token_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """:func:`record` what ``by`` did, with its id, address and interface."""
    return record(
        session=session,
        event=event,
        actor_id=by.id,
        subject_id=subject_id,
        corpus=corpus,
        token_id=token_id,
        source=by.source,
        **detail,
        via=by.via,
    )


def recent(
    *,
    session: Session,
    limit: int = 100,
    event: str | None = None,
    person_id: int | None = None,
    corpus: str | None = None,
) -> list[AuditEvent]:
    """The latest events, newest first; ``person_id``: those this account did or underwent."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if event is not None:
        query = query.where(AuditEvent.event == event)
    if person_id is not None:
        query = query.where(
            (AuditEvent.actor_id == person_id) | (AuditEvent.subject_id == person_id)
        )
    if corpus is not None:
        query = query.where(AuditEvent.corpus == corpus)
    return list(session.scalars(query))


def purge(*, session: Session, keep_days: int, now: datetime | None = None) -> int:
    """Delete the events older than ``keep_days``; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    result = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
