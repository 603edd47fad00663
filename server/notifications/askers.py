"""What askers hear: the decision on their held question — the approved text, or the
reviewer's reason — by e-mail, when they have an account with an address and have not
opted out, or left an address for the reply when they asked for a person.

A citizen's address leaves ``reply_addresses`` in the transaction that queues the reply:
from then on it is only in the outbox message, which forgets it once sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from corpora.models import Corpus, CorpusKind
from database import transaction
from review.models import ReviewItem, ReviewState
from server.notifications.context import BATCH, Notices, claim_mark
from server.notifications.letters import shorten
from server.notifications.models import MessageKind, ReplyAddress
from server.notifications.outbox import queue_message

# Decisions older than this are not told any more (e-mail was off when they were taken).
TELL_WITHIN = timedelta(days=7)
DECIDED = (ReviewState.approved, ReviewState.rejected)


def tell_askers(notices: Notices, now: datetime) -> int:
    """Queue one e-mail per newly decided item whose asker can be reached; how many items
    this worker handled."""
    with notices.sessions() as session:
        ids = list(
            session.scalars(
                select(ReviewItem.id)
                .where(
                    ReviewItem.state.in_(DECIDED),
                    ReviewItem.told_at.is_(None),
                    ReviewItem.decided_at >= now - TELL_WITHIN,
                )
                .order_by(ReviewItem.id)
                .limit(BATCH)
            )
        )
    done = 0
    for item_id in ids:
        with transaction(notices.sessions) as session:
            if not claim_mark(session, item_id=item_id, column="told_at", now=now):
                continue
            item = session.get_one(ReviewItem, item_id)
            _tell(notices, session, item, now)
        done += 1
    return done


def _recipient(session: Session, item: ReviewItem) -> tuple[str, str, int | None] | None:
    """(address, language, account id) of the asker, or None when they cannot be told."""
    answer = item.answer
    reply = session.get(ReplyAddress, answer.id)
    if reply is not None:
        address, language = reply.address, reply.language
        session.delete(reply)
        return address, language, None
    user_id = answer.conversation.user_id
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or not user.email or not user.notify_replies:
        return None
    return user.email, user.language, user.id


def _tell(notices: Notices, session: Session, item: ReviewItem, now: datetime) -> None:
    found = _recipient(session, item)
    if found is None:
        return
    address, language, user_id = found
    answer = item.answer
    corpus = session.get_one(Corpus, item.corpus_id)
    approved = item.state == ReviewState.approved
    context: dict[str, object] = {
        "corpus": corpus.title,
        # In a course the reviewer is « l'enseignant du cours », elsewhere « un agent ».
        "teacher": corpus.kind == CorpusKind.course,
        "question": shorten(answer.question),
        "link": notices.letters.link("/mes-questions"),
    }
    if approved:
        context["answer"] = answer.text or ""
        context["sources"] = [
            {
                "n": c.get("n"),
                "title": c.get("title") or "",
                "link": notices.letters.link(f"/documents/{c.get('document_id')}"),
            }
            for c in answer.citations
        ]
    else:
        context["reason"] = item.reject_reason or ""
    kind = MessageKind.approved if approved else MessageKind.rejected
    letter = notices.letters.render(
        kind, language=language, account=user_id is not None, subject={}, **context
    )
    queue_message(
        session=session,
        kind=kind,
        to=address,
        user_id=user_id,
        language=language,
        subject=letter.subject,
        text=letter.text,
        html=letter.html,
        now=now,
        review_id=item.id,
    )
