"""What askers say back: feedback on an answer, or a request for a person."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from database import utcnow
from review.answers import enqueue
from review.models import Answer, AnswerStatus, Feedback
from review.policy import PRIORITY, Reason, flag


def feedback_of(*, session: Session, answer_id: str) -> Feedback | None:
    """What the asker said of an answer (the last word when older rows repeat it)."""
    return session.scalar(
        select(Feedback)
        .where(Feedback.answer_id == answer_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(1)
    )


def record_feedback(
    *, session: Session, answer: Answer, helpful: bool, comment: str | None
) -> Feedback:
    """Keep the asker's one opinion of the answer: a second one replaces the first (they
    changed their mind), a comment left empty keeps the earlier one. An unhelpful answer
    goes to the review queue."""
    feedback = feedback_of(session=session, answer_id=answer.id)
    if feedback is None:
        feedback = Feedback(answer_id=answer.id, helpful=helpful, comment=comment or None)
        session.add(feedback)
    else:
        feedback.helpful = helpful
        feedback.comment = comment or feedback.comment
        feedback.created_at = utcnow()
    if not helpful:
        enqueue(
            session=session,
            answer=answer,
            reasons=[flag(Reason.negative_feedback)],
            priority=PRIORITY[Reason.negative_feedback],
        )
    session.flush()
    return feedback


def request_human(*, session: Session, answer: Answer) -> None:
    """The asker wants a person: the question joins the queue at high priority.

    A declined question waits for an agent's own answer; a released one stays visible
    while a person looks at it again.
    """
    answer.human_requested = True
    if answer.status in (AnswerStatus.declined, AnswerStatus.rejected):
        answer.status = AnswerStatus.pending_review
    enqueue(
        session=session,
        answer=answer,
        reasons=[flag(Reason.human_requested)],
        priority=PRIORITY[Reason.human_requested],
    )
    session.flush()
