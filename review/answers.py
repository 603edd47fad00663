"""Queries about conversations and answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from review.access import owns_conversation
from review.models import Answer, AnswerStatus, Conversation, ReviewItem, ReviewState


def open_conversation(
    *,
    session: Session,
    corpus_id: int,
    conversation_id: str | None,
    user_id: int | None,
    session_id: str | None,
) -> Conversation | None:
    """The caller's conversation, or a new one; None when the id is someone else's."""
    if conversation_id:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.corpus_id != corpus_id:
            return None
        if not owns_conversation(conversation, user_id=user_id, session_id=session_id):
            return None
        return conversation
    conversation = Conversation(corpus_id=corpus_id, user_id=user_id, session_id=session_id)
    session.add(conversation)
    session.flush()
    return conversation


def history(*, session: Session, conversation: Conversation, limit: int = 4) -> list[Answer]:
    """The last turns, oldest first, for making a follow-up stand alone: a question
    declined or held is still what the follow-up refers to."""
    rows = session.scalars(
        select(Answer)
        .where(
            Answer.conversation_id == conversation.id,
            Answer.status != AnswerStatus.generating,
        )
        .order_by(Answer.created_at.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def enqueue(
    *, session: Session, answer: Answer, reasons: list[dict[str, str]], priority: int
) -> ReviewItem:
    """Put an answer in the moderation queue (once)."""
    if answer.review is not None:
        item = answer.review
        item.reasons = [*item.reasons, *[r for r in reasons if r not in item.reasons]]
        item.priority = max(item.priority, priority)
        if item.state in (ReviewState.approved, ReviewState.rejected):
            item.state = ReviewState.pending
            item.version += 1
            # Open again: its reviewers hear of it again, and later the asker.
            item.announced_at = item.reminded_at = item.told_at = None
        return item
    item = ReviewItem(
        answer_id=answer.id,
        corpus_id=answer.corpus_id,
        state=ReviewState.pending,
        priority=priority,
        reasons=reasons,
    )
    session.add(item)
    session.flush()
    return item


def answers_of(
    *, session: Session, user_id: int | None, session_id: str | None, limit: int = 50
) -> list[Answer]:
    """The caller's own questions, newest first."""
    query = select(Answer).join(Conversation)
    if user_id is not None:
        query = query.where(Conversation.user_id == user_id)
    elif session_id:
        query = query.where(Conversation.session_id == session_id, Conversation.user_id.is_(None))
    else:
        return []
    return list(session.scalars(query.order_by(Answer.created_at.desc()).limit(limit)))


def mark_decided(answer: Answer, status: AnswerStatus, text: str | None) -> None:
    answer.status = status
    answer.text = text
    answer.decided_at = utcnow()


def requeue_interrupted(*, session: Session, older_than: datetime) -> int:
    """Answers left ``generating`` since before ``older_than`` (a process killed in the
    middle, a crash) go to the review queue: no question is silently dropped."""
    from review.policy import PRIORITY, Reason, flag

    stuck = session.scalars(
        select(Answer).where(
            Answer.status == AnswerStatus.generating, Answer.created_at < older_than
        )
    ).all()
    for answer in stuck:
        reasons = [flag(Reason.interrupted)]
        answer.status = AnswerStatus.pending_review
        answer.reasons = reasons
        enqueue(
            session=session, answer=answer, reasons=reasons, priority=PRIORITY[Reason.interrupted]
        )
    return len(stuck)
