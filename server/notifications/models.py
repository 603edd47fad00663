"""The tables of e-mail notifications: the outbox, digest entries, citizens' reply addresses."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, UTCDateTime, utcnow


class MessageState(enum.StrEnum):
    queued = "queued"  # waiting for its next attempt
    sending = "sending"  # claimed by one worker until ``claimed_until``
    sent = "sent"
    failed = "failed"  # given up: refused for good, or too many attempts


class MessageKind(enum.StrEnum):
    new_item = "new_item"
    digest = "digest"
    overdue = "overdue"
    approved = "approved"
    rejected = "rejected"
    test = "test"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class OutboxMessage(Base):
    """One e-mail, rendered when it was queued, until it is sent or given up.

    The address is kept only while the message may still be sent: it is blanked once the
    message is sent or failed, and only its masked form stays for the admin page.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    to_address: Mapped[str | None] = mapped_column(String(254), default=None)
    to_masked: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    review_id: Mapped[int | None] = mapped_column(Integer, default=None)
    state: Mapped[MessageState] = mapped_column(_enum(MessageState), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=20)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DigestEntry(Base):
    """A new review item waiting to go out in one reviewer's next digest."""

    __tablename__ = "digest_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)


class ReplyAddress(Base):
    """The address a citizen without an account left for the reply to their question.

    Kept only until the reply is queued: it then moves into the outbox message, which
    blanks it once sent. Reviewers only ever see it masked.
    """

    __tablename__ = "reply_addresses"

    answer_id: Mapped[str] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
