"""Every transition of a review item, kept, and exportable as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.people import people
from corpora.models import Corpus
from review.models import ReviewEvent, ReviewItem

CSV_COLUMNS = (
    "event_id",
    "review_id",
    "answer_id",
    "corpus",
    "action",
    "from_state",
    "to_state",
    "actor",
    "actor_role",
    "at",
    "before_text",
    "after_text",
    "note",
)
# Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(
    *,
    session: Session,
    item: ReviewItem,
    actor_id: int | None,
    action: str,
    from_state: str | None,
    to_state: str,
    before_text: str | None = None,
    after_text: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> ReviewEvent:
    """Append one transition to the item's history."""
    event = ReviewEvent(
        review_id=item.id,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        before_text=before_text,
        after_text=after_text,
        note=note,
    )
    if at is not None:
        event.at = at
    session.add(event)
    session.flush()
    return event


def events(
    *, session: Session, corpus_ids: Collection[int] | None, review_id: int | None = None
) -> list[tuple[ReviewEvent, ReviewItem, str]]:
    """Events (oldest first) with their item and corpus name."""
    query = (
        select(ReviewEvent, ReviewItem, Corpus.name)
        .join(ReviewItem, ReviewEvent.review_id == ReviewItem.id)
        .join(Corpus, ReviewItem.corpus_id == Corpus.id)
        .order_by(ReviewEvent.at, ReviewEvent.id)
    )
    if corpus_ids is not None:
        query = query.where(ReviewItem.corpus_id.in_(list(corpus_ids) or [-1]))
    if review_id is not None:
        query = query.where(ReviewEvent.review_id == review_id)
    return [(e, i, name) for e, i, name in session.execute(query).all()]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(*, session: Session, corpus_ids: Collection[int] | None) -> str:
    """The history of the given corpora (None: all) as CSV, one row per transition."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = events(session=session, corpus_ids=corpus_ids)
    actors = people(session=session, ids=(event.actor_id for event, _, _ in rows))
    for event, item, corpus in rows:
        actor = actors.get(event.actor_id) if event.actor_id is not None else None
        writer.writerow(
            _cell(v)
            for v in (
                event.id,
                item.id,
                item.answer_id,
                corpus,
                event.action,
                event.from_state,
                event.to_state,
                actor.name if actor else "",
                actor.role if actor else "",
                event.at.isoformat(timespec="seconds"),
                event.before_text,
                event.after_text,
                event.note,
            )
        )
    return buffer.getvalue()
