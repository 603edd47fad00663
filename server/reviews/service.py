"""The review feature as the API and the pages share it: which corpora the caller reviews,
an item as reviewers see it, the dashboard figures, and the queue's actions.

Plain Python: no FastAPI here. Refusals are the queue's own errors (``ReviewError``) and
:class:`~accounts.errors.NotAllowed`; server/errors.py maps them to HTTP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from accounts import audit
from accounts.errors import NotAllowed
from accounts.models import User
from accounts.people import Person, people
from accounts.permissions import Action, can
from corpora.models import Corpus
from corpora.repository import document_counts, list_corpora
from database import utcnow
from review import queue
from review import verified as verified_answers
from review.feedback import feedback_of
from review.models import ReviewItem, ReviewState
from review.policy import Reason
from review.stats import Dashboard, Rates, waiting_per_corpus
from review.verified import Searchable, verified_for_review
from server.answers.schemas import CitationOut
from server.i18n import Translator
from server.navigation import reviewed_and_managed
from server.notifications.service import masked_reply_address
from server.reviews.schemas import (
    FeedbackOut,
    OverdueOut,
    PassageOut,
    PersonOut,
    RatesOut,
    ReasonOut,
    ReviewOut,
    StatsOut,
)
from server.settings import Settings

log = logging.getLogger(__name__)


def overdue_after(settings: Settings) -> timedelta:
    """How long an item may wait before the dashboard highlights it."""
    return timedelta(minutes=settings.review_overdue_minutes)


def reviewable_corpora(*, session: Session, user: User) -> list[Corpus]:
    """The corpora ``user`` reviews: their courses, their procedure corpora, all for admins."""
    return [
        c
        for c in list_corpora(session=session)
        if can(session=session, user=user, action=Action.review, corpus=c)
    ]


@dataclass(frozen=True)
class CorpusOverview:
    """One of a reviewer's corpora on their home: what waits, and its documents."""

    corpus: Corpus
    waiting: int
    documents: int | None  # None: the reviewer does not manage its documents


def corpora_overview(session: Session, user: User) -> list[CorpusOverview]:
    """The corpora ``user`` reviews, each with its waiting items and its documents."""
    reviewed, managed = reviewed_and_managed(session=session, user=user)
    ids = [c.id for c in reviewed]
    waiting = waiting_per_corpus(session=session, corpus_ids=ids)
    documents = document_counts(session=session, corpus_ids=ids)
    managed_ids = {c.id for c in managed}
    return [
        CorpusOverview(
            corpus=c,
            waiting=waiting[c.id],
            documents=documents[c.id] if c.id in managed_ids else None,
        )
        for c in reviewed
    ]


def require_reviewer(*, session: Session, user: User) -> list[Corpus]:
    corpora = reviewable_corpora(session=session, user=user)
    if not corpora:
        raise NotAllowed("not_a_reviewer", signed_in=True)
    return corpora


def visible_item(*, session: Session, item_id: int, corpora: list[Corpus]) -> ReviewItem:
    """The item when it belongs to one of ``corpora``; not found otherwise (no hint it exists)."""
    item = queue.get_item(session=session, item_id=item_id, corpus_ids={c.id for c in corpora})
    if item is None:
        raise queue.ReviewNotFound()
    return item


def _explained(error: queue.ReviewError, *, session: Session, tr: Translator) -> queue.ReviewError:
    """The refusal with what its message shows people: who holds the item, until when."""
    if isinstance(error, queue.ClaimedByOther):
        holder = people(session=session, ids=[error.details.get("claimed_by")])
        person = next(iter(holder.values()), None)
        until = error.details.get("until")
        error.details["name"] = person.name if person else "?"
        error.details["until"] = tr.time(until) if isinstance(until, datetime) else "?"
    return error


def _person(person: Person | None) -> PersonOut | None:
    return PersonOut(id=person.id, name=person.name, role=person.role) if person else None


def review_out(
    item: ReviewItem,
    *,
    session: Session,
    corpus: Corpus,
    tr: Translator,
    user: User | None = None,
    now: datetime | None = None,
) -> ReviewOut:
    """The reviewer's view of one item."""
    now = now or utcnow()
    answer = item.answer
    state = queue.effective_state(item, now)
    who = people(session=session, ids=[item.claimed_by, item.decided_by])
    claimed = state == ReviewState.claimed
    cited = {c.get("n") for c in answer.citations}
    verified = verified_for_review(session=session, review_id=item.id)
    return ReviewOut(
        id=item.id,
        answer_id=answer.id,
        corpus=corpus.name,
        corpus_title=corpus.title,
        state=state.value,
        reasons=[
            ReasonOut(
                code=str(r.get("code", "")),
                detail=_detail(tr, str(r.get("code", "")), str(r.get("detail", ""))),
                label=tr(f"reason.{r.get('code', '')}"),
            )
            for r in item.reasons
        ],
        version=item.version,
        priority=item.priority,
        question=answer.question,
        draft=answer.text,
        model_draft=answer.draft,
        citations=[CitationOut(**_fields(c, CitationOut)) for c in answer.citations],
        passages=[
            PassageOut(**_fields(p, PassageOut), cited=p.get("n") in cited) for p in answer.passages
        ],
        claimed_by=_person(who.get(item.claimed_by)) if claimed and item.claimed_by else None,
        claim_expires_at=item.claim_expires_at if claimed else None,
        claimed_by_me=claimed and user is not None and item.claimed_by == user.id,
        created_at=item.created_at,
        waiting_seconds=max(0.0, ((item.decided_at or now) - item.created_at).total_seconds()),
        decided_at=item.decided_at,
        decided_by=_person(who.get(item.decided_by)) if item.decided_by else None,
        edited=item.edited,
        reject_reason=item.reject_reason,
        verified_answer_id=verified.id if verified else None,
        feedback=(
            FeedbackOut(helpful=given.helpful, comment=given.comment, given_at=given.created_at)
            if (given := feedback_of(session=session, answer_id=answer.id))
            else None
        ),
        reply_by_email=masked_reply_address(session=session, answer_id=answer.id),
    )


def _fields(record: dict[str, Any], model: type[Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in record.items()
        if k in model.model_fields and k != "cited" and v is not None
    }


def _rates(rates: Rates) -> RatesOut:
    return RatesOut(
        key=rates.key,
        label=rates.label,
        waiting=rates.waiting,
        decided=rates.decided,
        approved=rates.approved,
        edited=rates.edited,
        rejected=rates.rejected,
        approval_rate=rates.approval_rate,
        edit_rate=rates.edit_rate,
        rejection_rate=rates.rejection_rate,
        median_review_seconds=rates.median_review_seconds,
    )


def stats_out(board: Dashboard) -> StatsOut:
    return StatsOut(
        total=_rates(board.total),
        per_corpus=[_rates(r) for r in board.per_corpus],
        per_reviewer=[_rates(r) for r in board.per_reviewer],
        overdue=[
            OverdueOut(
                review_id=o.review_id,
                corpus=o.corpus,
                priority=o.priority,
                waiting_seconds=o.waiting_seconds,
            )
            for o in board.overdue
        ],
        overdue_after_minutes=int(board.overdue_after.total_seconds() // 60),
    )


DECISION_EVENTS = {"approve": audit.Event.review_approved, "reject": audit.Event.review_rejected}


def act(
    action: str,
    *,
    session: Session,
    index: Searchable,
    user: User,
    item: ReviewItem,
    corpus: Corpus,
    version: int,
    tr: Translator,
    text: str | None = None,
    reason: str | None = None,
    save_verified: bool = False,
) -> ReviewItem:
    """Run one queue action for ``user``; a refusal is rolled back and raised, explained.

    Saving a verified answer commits first, then indexes its question: the search
    index is not part of the SQL transaction, and the SQL row is what counts.
    """
    try:
        if action == "claim":
            done = queue.claim(session=session, item_id=item.id, version=version, user_id=user.id)
        elif action == "release":
            done = queue.release(session=session, item_id=item.id, version=version, user_id=user.id)
        elif action == "reject":
            done = queue.reject(
                session=session,
                item_id=item.id,
                version=version,
                user_id=user.id,
                reason=reason or "",
            )
        elif action == "approve":
            done = queue.approve(
                session=session, item_id=item.id, version=version, user_id=user.id, text=text
            )
        else:
            raise ValueError(action)
    except queue.ReviewError as error:
        session.rollback()
        raise _explained(error, session=session, tr=tr) from None
    if action in ("approve", "reject"):
        audit.record(
            session=session,
            event=DECISION_EVENTS[action],
            actor_id=user.id,
            corpus=corpus.name,
            review_id=done.id,
            edited=done.edited if action == "approve" else None,
        )
    if action == "approve" and save_verified:
        kept = verified_answers.save_verified(
            session=session, item=done, user_id=user.id, user_role=user.role.value
        )
        session.commit()
        try:
            verified_answers.index_verified(index=index, corpus=corpus.name, verified=kept)
        except Exception:  # noqa: BLE001 - kept in SQL; only reuse is lost
            log.exception("verified answer %s could not be indexed", kept.id)
    else:
        session.commit()
    return done


def _detail(tr: Translator, code: str, detail: str) -> str:
    """A weak-support flag's detail as the reviewer reads it: words for a code the catalog
    knows (« followup_subject »), or for a score with what it measures (« lead 1.02 »; a
    score alone is the documents' coverage), the score in the reader's number format.
    Other details, and any the catalog does not know, are shown as stored."""
    if code != Reason.weak_support:
        return detail
    measure, _, value = detail.rpartition(" ")
    try:
        score = tr.number(float(value), 2)
    except ValueError:  # no score: a code alone, or words
        key = f"reason.detail.{detail}"
        said = tr(key)
        return detail if said == key or "{score}" in said else said
    key = f"reason.detail.{measure or 'coverage'}"
    said = tr(key, score=score)
    return detail if said == key else said
