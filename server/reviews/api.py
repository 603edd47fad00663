"""The review API: the moderation queue for teachers, agents and admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from accounts.models import User
from corpora.models import Corpus
from review import history, queue, stats
from review.models import ReviewItem, ReviewState
from server.deps import DbSession, SignedInUser, State, Tr
from server.reviews.schemas import (
    ApproveIn,
    RejectIn,
    ReviewOut,
    ReviewsOut,
    StatsOut,
    VersionIn,
)
from server.reviews.service import (
    act,
    overdue_after,
    require_reviewer,
    review_out,
    stats_out,
    visible_item,
)
from server.schemas import RowId, error_responses

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])

READ = error_responses(
    {
        401: "Not signed in / invalid token",
        403: "The caller reviews no corpus",
        422: "Invalid request",
    }
)
ITEM = {**READ, **error_responses({404: "No such item among the caller's corpora"})}
ACTION = {**ITEM, **error_responses({409: "Stale version, claimed by someone else, or decided"})}


@router.get("", response_model=ReviewsOut, responses=READ)
def list_reviews(
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
    state: ReviewState | None = None,
    corpus: str | None = None,
    reason: str | None = None,
) -> ReviewsOut:
    """Items of the caller's corpora, most urgent first, then longest waiting.

    Without ``state``: the open items (pending or claimed).
    """
    corpora = require_reviewer(session=session, user=user)
    if corpus:
        corpora = [c for c in corpora if c.name == corpus]
    by_id = {c.id: c for c in corpora}
    items = queue.list_items(session=session, corpus_ids=set(by_id), state=state, reason=reason)
    return ReviewsOut(
        reviews=[
            review_out(i, session=session, corpus=by_id[i.corpus_id], tr=tr, user=user)
            for i in items
        ]
    )


@router.get("/history.csv", response_class=Response, responses=READ)
def history_csv(session: DbSession, user: SignedInUser, corpus: str | None = None) -> Response:
    """Every transition (who, when, text before and after) as CSV."""
    corpora = require_reviewer(session=session, user=user)
    ids = {c.id for c in corpora if not corpus or c.name == corpus}
    return Response(
        history.export_csv(session=session, corpus_ids=ids),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="guichet-relectures.csv"'},
    )


@router.get("/stats", response_model=StatsOut, responses=READ)
def review_stats(
    state: State,
    session: DbSession,
    user: SignedInUser,
    overdue_minutes: Annotated[int | None, Query(ge=1, le=525_600)] = None,
) -> StatsOut:
    """Items waiting, median time to review, decision rates per corpus and reviewer."""
    corpora = require_reviewer(session=session, user=user)
    after = overdue_after(state.settings)
    if overdue_minutes is not None and overdue_minutes > 0:
        after = timedelta(minutes=overdue_minutes)
    board = stats.dashboard(
        session=session, corpus_ids={c.id for c in corpora}, overdue_after=after
    )
    return stats_out(board)


def _item(session: DbSession, user: User, review_id: int) -> tuple[Corpus, ReviewItem]:
    corpora = require_reviewer(session=session, user=user)
    item = visible_item(session=session, item_id=review_id, corpora=corpora)
    return next(c for c in corpora if c.id == item.corpus_id), item


@router.get("/{review_id}", response_model=ReviewOut, responses=ITEM)
def get_review(review_id: RowId, session: DbSession, user: SignedInUser, tr: Tr) -> ReviewOut:
    """One item: question (masked), draft, passages, reasons, claim."""
    corpus, item = _item(session, user, review_id)
    return review_out(item, session=session, corpus=corpus, tr=tr, user=user)


def _act(
    action: str,
    state: State,
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
    review_id: RowId,
    version: int,
    **options: object,
) -> ReviewOut:
    corpus, item = _item(session, user, review_id)
    done = act(
        action,
        session=session,
        index=state.index,
        user=user,
        item=item,
        corpus=corpus,
        version=version,
        tr=tr,
        **options,  # type: ignore[arg-type]
    )
    return review_out(done, session=session, corpus=corpus, tr=tr, user=user)


@router.post("/{review_id}/claim", response_model=ReviewOut, responses=ACTION)
def claim(
    review_id: RowId,
    body: VersionIn,
    state: State,
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
) -> ReviewOut:
    """Take the item for 15 minutes; others see who holds it and until when."""
    return _act("claim", state, session, user, tr, review_id, body.version)


@router.post("/{review_id}/release", response_model=ReviewOut, responses=ACTION)
def release(
    review_id: RowId,
    body: VersionIn,
    state: State,
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
) -> ReviewOut:
    """Give up one's claim."""
    return _act("release", state, session, user, tr, review_id, body.version)


@router.post("/{review_id}/approve", response_model=ReviewOut, responses=ACTION)
def approve(
    review_id: RowId,
    body: ApproveIn,
    state: State,
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
) -> ReviewOut:
    """Release the answer to the asker, as drafted or edited; optionally keep it verified."""
    return _act(
        "approve",
        state,
        session,
        user,
        tr,
        review_id,
        body.version,
        text=body.answer,
        save_verified=body.save_verified,
    )


@router.post("/{review_id}/reject", response_model=ReviewOut, responses=ACTION)
def reject(
    review_id: RowId,
    body: RejectIn,
    state: State,
    session: DbSession,
    user: SignedInUser,
    tr: Tr,
) -> ReviewOut:
    """Refuse the answer; the asker sees a polite message with the reason."""
    return _act("reject", state, session, user, tr, review_id, body.version, reason=body.reason)
