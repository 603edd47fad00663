"""Figures for the reviewers' dashboard, per corpus and per reviewer."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.people import people
from corpora.models import Corpus
from database import utcnow
from review.models import ReviewItem, ReviewState
from review.queue import OPEN_STATES


@dataclass
class Rates:
    """Decisions taken and their split; rates are shares of the decided items (0 to 1)."""

    key: str
    label: str
    waiting: int = 0
    decided: int = 0
    approved: int = 0
    edited: int = 0
    rejected: int = 0
    review_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def approval_rate(self) -> float | None:
        """Approved as the draft was written; with the edit and rejection rates, the three
        shares of the decided items add up to one."""
        return (self.approved - self.edited) / self.decided if self.decided else None

    @property
    def edit_rate(self) -> float | None:
        """Approved once a reviewer had changed the text."""
        return self.edited / self.decided if self.decided else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.decided if self.decided else None

    @property
    def median_review_seconds(self) -> float | None:
        return statistics.median(self.review_seconds) if self.review_seconds else None

    def count(self, item: ReviewItem) -> None:
        if item.state in OPEN_STATES:
            self.waiting += 1
            return
        self.decided += 1
        if item.state == ReviewState.approved:
            self.approved += 1
            self.edited += int(item.edited)
        elif item.state == ReviewState.rejected:
            self.rejected += 1
        if item.decided_at is not None:
            self.review_seconds.append((item.decided_at - item.created_at).total_seconds())


@dataclass(frozen=True)
class Overdue:
    review_id: int
    corpus: str
    priority: int
    waiting_seconds: float


@dataclass
class Dashboard:
    total: Rates
    per_corpus: list[Rates]
    per_reviewer: list[Rates]
    overdue: list[Overdue]
    overdue_after: timedelta


def dashboard(
    *,
    session: Session,
    corpus_ids: Collection[int] | None,
    overdue_after: timedelta,
    now: datetime | None = None,
) -> Dashboard:
    """Items waiting, median time to review, decision rates, and items waiting too long.

    The time to review runs from the item's creation to its decision.
    """
    now = now or utcnow()
    query = select(ReviewItem, Corpus.name, Corpus.title).join(
        Corpus, ReviewItem.corpus_id == Corpus.id
    )
    if corpus_ids is not None:
        query = query.where(ReviewItem.corpus_id.in_(list(corpus_ids) or [-1]))
    rows = session.execute(query.order_by(ReviewItem.created_at)).all()
    reviewers = people(session=session, ids=(item.decided_by for item, _, _ in rows))
    total = Rates("all", "")
    corpora: dict[str, Rates] = {}
    by_reviewer: dict[int, Rates] = {}
    overdue: list[Overdue] = []
    for item, name, title in rows:
        total.count(item)
        corpora.setdefault(name, Rates(name, title)).count(item)
        if item.decided_by is not None and item.state not in OPEN_STATES:
            person = reviewers.get(item.decided_by)
            label = person.name if person else f"#{item.decided_by}"
            by_reviewer.setdefault(item.decided_by, Rates(str(item.decided_by), label)).count(item)
        waited = now - item.created_at
        if item.state in OPEN_STATES and waited > overdue_after:
            overdue.append(Overdue(item.id, name, item.priority, waited.total_seconds()))
    overdue.sort(key=lambda o: (-o.priority, -o.waiting_seconds))
    return Dashboard(
        total=total,
        per_corpus=sorted(corpora.values(), key=lambda r: r.label),
        per_reviewer=sorted(by_reviewer.values(), key=lambda r: r.label),
        overdue=overdue,
        overdue_after=overdue_after,
    )


def waiting_per_corpus(*, session: Session, corpus_ids: Collection[int]) -> dict[int, int]:
    """How many items wait (pending or claimed) in each of ``corpus_ids``; 0 for none."""
    rows = session.execute(
        select(ReviewItem.corpus_id, func.count())
        .where(ReviewItem.corpus_id.in_(list(corpus_ids) or [-1]))
        .where(ReviewItem.state.in_(OPEN_STATES))
        .group_by(ReviewItem.corpus_id)
    ).all()
    found = {corpus_id: count for corpus_id, count in rows}
    return {corpus_id: found.get(corpus_id, 0) for corpus_id in corpus_ids}
