"""What reviewers hear: a new item in their queue (at once, or in an hourly or daily
digest), and a reminder to a corpus's owners when an item has waited too long.

Each item is announced and reminded once: the worker that sets ``announced_at`` (or
``reminded_at``) with a conditional UPDATE queues the messages in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from accounts.models import Frequency, User
from corpora.models import Corpus
from database import transaction
from review.models import ReviewItem
from review.queue import OPEN_STATES
from server.i18n import Translator
from server.notifications.context import (
    BATCH,
    Notices,
    claim_mark,
    reason_labels,
    reviewers_of,
    waiting_label,
)
from server.notifications.letters import Rendered, shorten
from server.notifications.models import DigestEntry, MessageKind
from server.notifications.outbox import queue_message

log = logging.getLogger(__name__)
PERIODS = {Frequency.hourly: timedelta(hours=1), Frequency.daily: timedelta(days=1)}


def _open_items(notices: Notices, *conditions: ColumnElement[bool]) -> list[int]:
    with notices.sessions() as session:
        query = select(ReviewItem.id).where(ReviewItem.state.in_(OPEN_STATES), *conditions)
        return list(session.scalars(query.order_by(ReviewItem.id).limit(BATCH)))


def announce(notices: Notices, now: datetime) -> int:
    """Tell the reviewers of each newly queued item (or put it in their digest); how many
    items were announced by this worker."""
    done = 0
    for item_id in _open_items(notices, ReviewItem.announced_at.is_(None)):
        with transaction(notices.sessions) as session:
            if not claim_mark(session, item_id=item_id, column="announced_at", now=now):
                continue
            item = session.get_one(ReviewItem, item_id)
            corpus = session.get_one(Corpus, item.corpus_id)
            asker = item.answer.conversation.user_id
            for user in reviewers_of(session=session, corpus=corpus, asker_id=asker):
                frequency = notices.frequency(user)
                if frequency == Frequency.off:
                    continue
                if frequency in PERIODS:
                    session.add(DigestEntry(user_id=user.id, review_id=item.id, created_at=now))
                    continue
                tr = Translator(user.language)
                letter = notices.letters.render(
                    MessageKind.new_item,
                    language=user.language,
                    account=True,
                    subject={"corpus": corpus.title},
                    corpus=corpus.title,
                    question=shorten(item.answer.question),
                    reasons=reason_labels(tr, item.reasons),
                    link=notices.letters.link(f"/relecture/{item.id}"),
                )
                _queue(session, MessageKind.new_item, user, letter, now, review_id=item.id)
        done += 1
    return done


def _queue(
    session: Session,
    kind: MessageKind,
    user: User,
    letter: Rendered,
    now: datetime,
    review_id: int | None = None,
) -> None:
    assert user.email is not None
    queue_message(
        session=session,
        kind=kind,
        to=user.email,
        user_id=user.id,
        language=user.language,
        subject=letter.subject,
        text=letter.text,
        html=letter.html,
        now=now,
        review_id=review_id,
    )


def send_digests(notices: Notices, now: datetime) -> int:
    """One e-mail per reviewer whose oldest undigested item has waited their period (an
    hour, a day), listing the items still open; how many digests were queued."""
    with notices.sessions() as session:
        waiting = session.execute(
            select(DigestEntry.user_id, func.min(DigestEntry.created_at))
            .where(DigestEntry.digested_at.is_(None))
            .group_by(DigestEntry.user_id)
        ).all()
    queued = 0
    for user_id, oldest in waiting:
        with transaction(notices.sessions) as session:
            user = session.get(User, user_id)
            if user is None:
                continue
            frequency = notices.frequency(user)
            period = PERIODS.get(frequency, timedelta(0))
            if oldest > now - period:
                continue
            entries = session.scalars(
                select(DigestEntry).where(
                    DigestEntry.user_id == user_id, DigestEntry.digested_at.is_(None)
                )
            ).all()
            ids = [e.id for e in entries]
            taken = session.execute(
                update(DigestEntry)
                .where(DigestEntry.id.in_(ids), DigestEntry.digested_at.is_(None))
                .values(digested_at=now)
                .execution_options(synchronize_session=False)
            )
            if int(taken.rowcount) != len(ids):  # type: ignore[attr-defined]
                session.rollback()  # another worker is sending this digest
                continue
            items = session.scalars(
                select(ReviewItem)
                .where(
                    ReviewItem.id.in_([e.review_id for e in entries]),
                    ReviewItem.state.in_(OPEN_STATES),
                )
                .order_by(ReviewItem.id)
            ).all()
            if not items or not user.email or not user.active or frequency == Frequency.off:
                continue  # nothing left to tell: decided meanwhile, or no way to tell
            titles = {
                c.id: c.title
                for c in session.scalars(
                    select(Corpus).where(Corpus.id.in_({i.corpus_id for i in items}))
                )
            }
            letter = notices.letters.render(
                MessageKind.digest,
                language=user.language,
                account=True,
                subject={"count": len(items)},
                period="daily" if frequency == Frequency.daily else "hourly",
                queue_url=notices.letters.link("/relecture"),
                items=[
                    {
                        "corpus": titles[i.corpus_id],
                        "question": shorten(i.answer.question, 200),
                        "link": notices.letters.link(f"/relecture/{i.id}"),
                    }
                    for i in items
                ],
            )
            _queue(session, MessageKind.digest, user, letter, now)
            queued += 1
    return queued


def remind_overdue(notices: Notices, now: datetime) -> int:
    """Remind the owners of each item that has waited ``GUICHET_REVIEW_OVERDUE_MINUTES``
    since it was announced (at once, whatever their digest choice, unless they chose
    ``off``); how many items were reminded."""
    cutoff = now - notices.overdue_after
    done = 0
    for item_id in _open_items(
        notices, ReviewItem.reminded_at.is_(None), ReviewItem.announced_at <= cutoff
    ):
        with transaction(notices.sessions) as session:
            if not claim_mark(session, item_id=item_id, column="reminded_at", now=now):
                continue
            item = session.get_one(ReviewItem, item_id)
            corpus = session.get_one(Corpus, item.corpus_id)
            waited = now - (item.announced_at or item.created_at)
            asker = item.answer.conversation.user_id
            for user in reviewers_of(session=session, corpus=corpus, asker_id=asker):
                if notices.frequency(user) == Frequency.off:
                    continue
                waiting = waiting_label(Translator(user.language), waited)
                letter = notices.letters.render(
                    MessageKind.overdue,
                    language=user.language,
                    account=True,
                    subject={"corpus": corpus.title, "waiting": waiting},
                    corpus=corpus.title,
                    waiting=waiting,
                    question=shorten(item.answer.question),
                    link=notices.letters.link(f"/relecture/{item.id}"),
                )
                _queue(session, MessageKind.overdue, user, letter, now, review_id=item.id)
        done += 1
    return done
