"""Answers as stored, and everything a person decides about them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, UTCDateTime, utcnow


def new_public_id() -> str:
    # Answers and conversations are reachable by anonymous citizens through their
    # id: an unguessable one keeps people out of each other's questions.
    return uuid.uuid4().hex


class AnswerStatus(enum.StrEnum):
    """What the asker may see."""

    generating = "generating"
    released = "released"
    pending_review = "pending_review"
    declined = "declined"
    rejected = "rejected"


class ReviewState(enum.StrEnum):
    pending = "pending"
    claimed = "claimed"
    approved = "approved"
    rejected = "rejected"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Conversation(Base):
    """A thread of questions by one asker on one corpus."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Anonymous citizens are told apart by a random session id, nothing more.
    session_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="conversation", order_by="Answer.created_at"
    )


class Answer(Base):
    """One question and what Guichet answered (or holds, or declined)."""

    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)  # personal data already masked
    search_query: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    status: Mapped[AnswerStatus] = mapped_column(_enum(AnswerStatus), index=True)
    draft: Mapped[str | None] = mapped_column(Text, default=None)  # what the model wrote
    text: Mapped[str | None] = mapped_column(Text, default=None)  # what the asker sees
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    passages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    support: Mapped[float | None] = mapped_column(Float, default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    ttft_ms: Mapped[float | None] = mapped_column(Float, default=None)
    total_ms: Mapped[float | None] = mapped_column(Float, default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    verified_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("verified_answers.id", ondelete="SET NULL"), default=None
    )
    human_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    masked_personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    conversation: Mapped[Conversation] = relationship(back_populates="answers")
    review: Mapped[ReviewItem | None] = relationship(back_populates="answer", uselist=False)


class ReviewItem(Base):
    """An answer waiting for (or decided by) a reviewer."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[str] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), unique=True
    )
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"), index=True)
    state: Mapped[ReviewState] = mapped_column(_enum(ReviewState), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Every action names the version it saw; a stale one is refused (409).
    version: Mapped[int] = mapped_column(Integer, default=1)
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reject_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Approved with a text other than the draft (the dashboard's edit rate).
    edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the e-mail worker has done about the item (server/notifications/): told its
    # reviewers it arrived, reminded its owners it is overdue, told the asker the decision.
    # Cleared when the item opens again; each is set by one conditional UPDATE, so several
    # workers never tell twice.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    answer: Mapped[Answer] = relationship(back_populates="review")
    events: Mapped[list[ReviewEvent]] = relationship(
        back_populates="item", order_by="ReviewEvent.id", cascade="all, delete-orphan"
    )


class ReviewEvent(Base):
    """One transition of a review item: who, when, what the text was before and after."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20), default=None)
    to_state: Mapped[str] = mapped_column(String(20))
    before_text: Mapped[str | None] = mapped_column(Text, default=None)
    after_text: Mapped[str | None] = mapped_column(Text, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ReviewItem] = relationship(back_populates="events")


class VerifiedAnswer(Base):
    """An answer a reviewer approved for reuse on close paraphrases."""

    __tablename__ = "verified_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_by_role: Mapped[str | None] = mapped_column(String(20), default=None)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The review it came from. No foreign key on purpose: answers already point here
    # (answers -> verified_answers -> review_items -> answers would be a cycle).
    source_review_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)

    sources: Mapped[list[VerifiedSource]] = relationship(
        back_populates="verified", cascade="all, delete-orphan"
    )


class VerifiedSource(Base):
    """A document version a verified answer cites: a newer version withdraws the answer."""

    __tablename__ = "verified_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_answer_id: Mapped[int] = mapped_column(
        ForeignKey("verified_answers.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)

    verified: Mapped[VerifiedAnswer] = relationship(back_populates="sources")


class Feedback(Base):
    """What an asker said of an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
