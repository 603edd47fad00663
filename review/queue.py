"""The moderation queue: list, claim, approve, reject, release.

Every action names the version of the item it saw. Transitions are one conditional
``UPDATE ... WHERE id = ? AND version = ?`` whose row count says who won: two reviewers
acting on the same version at the same moment get exactly one success, on SQLite (writers
are serialised) as on PostgreSQL (the second UPDATE waits for the first, then re-checks
its WHERE clause against the committed row and matches nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from database import utcnow
from review import history
from review.grounding import check_citations
from review.models import Answer, AnswerStatus, ReviewItem, ReviewState

log = logging.getLogger(__name__)

# How long a claim keeps others off an item; a reviewer who leaves loses it by itself.
CLAIM_LEASE = timedelta(minutes=15)
MAX_REJECT_REASON = 500
OPEN_STATES = (ReviewState.pending, ReviewState.claimed)
DECIDED_STATES = (ReviewState.approved, ReviewState.rejected)


class ReviewError(Exception):
    """An action the queue refuses; ``code`` is a catalog key suffix (``error.<code>``)."""

    status = 409

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


class ReviewNotFound(ReviewError):
    status = 404

    def __init__(self) -> None:
        super().__init__("review_not_found")


class StaleVersion(ReviewError):
    """Someone changed the item since the caller loaded it."""

    def __init__(self, current: int) -> None:
        super().__init__("review_stale", current=current)


class ClaimedByOther(ReviewError):
    def __init__(self, claimed_by: int | None, until: datetime | None) -> None:
        super().__init__("review_claimed", claimed_by=claimed_by, until=until)


class AlreadyDecided(ReviewError):
    def __init__(self) -> None:
        super().__init__("review_decided")


class NotClaimed(ReviewError):
    """Release of an item the caller does not hold."""

    def __init__(self) -> None:
        super().__init__("review_not_claimed")


class InvalidDecision(ReviewError):
    """A decision without what it needs (an answer text, a rejection reason)."""

    status = 422


def effective_state(item: ReviewItem, now: datetime | None = None) -> ReviewState:
    """The state others see: a claim whose lease has run out is pending again."""
    if item.state == ReviewState.claimed and _lease_over(item, now or utcnow()):
        return ReviewState.pending
    return item.state


def _lease_over(item: ReviewItem, now: datetime) -> bool:
    return item.claim_expires_at is None or item.claim_expires_at <= now


def reason_codes(item: ReviewItem) -> list[str]:
    return [str(r.get("code", "")) for r in item.reasons]


def list_items(
    *,
    session: Session,
    corpus_ids: Collection[int] | None,
    state: ReviewState | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[ReviewItem]:
    """Items of these corpora (None: all), most urgent first, then longest waiting.

    ``state`` None means the open items (pending or claimed); ``pending`` includes the
    claims whose lease has expired.
    """
    now = now or utcnow()
    query = select(ReviewItem).options(selectinload(ReviewItem.answer))
    if corpus_ids is not None:
        query = query.where(ReviewItem.corpus_id.in_(list(corpus_ids) or [-1]))
    lapsed = (ReviewItem.state == ReviewState.claimed) & (
        (ReviewItem.claim_expires_at.is_(None)) | (ReviewItem.claim_expires_at <= now)
    )
    if state is None:
        query = query.where(ReviewItem.state.in_(OPEN_STATES))
    elif state == ReviewState.pending:
        query = query.where((ReviewItem.state == ReviewState.pending) | lapsed)
    elif state == ReviewState.claimed:
        query = query.where(ReviewItem.state == ReviewState.claimed, ~lapsed)
    else:
        query = query.where(ReviewItem.state == state)
    query = query.order_by(
        ReviewItem.priority.desc(), ReviewItem.created_at.asc(), ReviewItem.id.asc()
    )
    items = list(session.scalars(query))
    # Reasons are a JSON list: filtered here, portable across SQLite and PostgreSQL.
    if reason:
        items = [i for i in items if reason in reason_codes(i)]
    return items[:limit]


def get_item(
    *, session: Session, item_id: int, corpus_ids: Collection[int] | None = None
) -> ReviewItem | None:
    """One item, or None when it does not exist or lies outside ``corpus_ids``."""
    item = session.get(ReviewItem, item_id)
    if item is None or (corpus_ids is not None and item.corpus_id not in corpus_ids):
        return None
    return item


def _load(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id, populate_existing=True)
    if item is None:
        raise ReviewNotFound()
    return item


def _transition(
    session: Session,
    *,
    item_id: int,
    version: int,
    user_id: int,
    now: datetime,
    allowed: Collection[ReviewState],
    values: dict[str, Any],
    claimer_only: bool = False,
) -> bool:
    """The one conditional UPDATE; True when this caller won the version."""
    holder = ReviewItem.claimed_by == user_id
    free = (
        holder
        if claimer_only
        else or_(
            ReviewItem.claimed_by.is_(None),
            holder,
            ReviewItem.claim_expires_at.is_(None),
            ReviewItem.claim_expires_at <= now,
        )
    )
    result = session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item_id,
            ReviewItem.version == version,
            ReviewItem.state.in_(list(allowed)),
            free,
        )
        .values(version=ReviewItem.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _refusal(
    session: Session, *, item_id: int, version: int, user_id: int, now: datetime
) -> ReviewError:
    """Why a conditional UPDATE matched nothing, from the row as it is now."""
    item = _load(session, item_id)
    if item.version != version:
        return StaleVersion(item.version)
    if item.state in DECIDED_STATES:
        return AlreadyDecided()
    if (
        item.state == ReviewState.claimed
        and item.claimed_by != user_id
        and not _lease_over(item, now)
    ):
        return ClaimedByOther(item.claimed_by, item.claim_expires_at)
    return NotClaimed()


def claim(
    *, session: Session, item_id: int, version: int, user_id: int, now: datetime | None = None
) -> ReviewItem:
    """Take the item for ``CLAIM_LEASE``; claiming one's own item again extends the lease."""
    now = now or utcnow()
    before = _load(session, item_id)
    from_state = effective_state(before, now)
    won = _transition(
        session,
        item_id=item_id,
        version=version,
        user_id=user_id,
        now=now,
        allowed=OPEN_STATES,
        values={
            "state": ReviewState.claimed,
            "claimed_by": user_id,
            "claim_expires_at": now + CLAIM_LEASE,
        },
    )
    if not won:
        raise _refusal(session, item_id=item_id, version=version, user_id=user_id, now=now)
    item = _load(session, item_id)
    history.record(
        session=session,
        item=item,
        actor_id=user_id,
        action="claim",
        from_state=from_state.value,
        to_state=item.state.value,
        at=now,
    )
    log.info("review %s claimed by user %s", item_id, user_id)
    return item


def release(
    *, session: Session, item_id: int, version: int, user_id: int, now: datetime | None = None
) -> ReviewItem:
    """Give up one's claim: the item is pending again for everyone."""
    now = now or utcnow()
    won = _transition(
        session,
        item_id=item_id,
        version=version,
        user_id=user_id,
        now=now,
        allowed=(ReviewState.claimed,),
        values={"state": ReviewState.pending, "claimed_by": None, "claim_expires_at": None},
        claimer_only=True,
    )
    if not won:
        raise _refusal(session, item_id=item_id, version=version, user_id=user_id, now=now)
    item = _load(session, item_id)
    history.record(
        session=session,
        item=item,
        actor_id=user_id,
        action="release",
        from_state=ReviewState.claimed.value,
        to_state=item.state.value,
        at=now,
    )
    log.info("review %s released by user %s", item_id, user_id)
    return item


@dataclass(frozen=True)
class FinalText:
    """What the asker will see: text with valid markers only, and its citations."""

    text: str
    citations: list[dict[str, Any]]
    edited: bool
    dropped_markers: tuple[str, ...]


def final_text(answer: Answer, edited: str | None) -> FinalText:
    """The draft, or the reviewer's text, with citations kept valid.

    Markers ``[n]`` must point to one of the answer's stored passages: the others are
    removed, and the citations are recomputed from the markers that remain. A reviewer's
    text that cites nothing keeps the draft's sources: rewording an answer does not make
    its documents go away. The text itself is kept as written (French spaces included).
    """
    proposal = answer.text or ""
    checked = check_citations(proposal if edited is None else edited.strip(), len(answer.passages))
    if not checked.text:
        raise InvalidDecision("review_empty_answer")
    citations = [answer.passages[n - 1] for n in checked.cited]
    if not citations and edited is not None:
        citations = list(answer.citations or [])
    changed = edited is not None and " ".join(checked.text.split()) != " ".join(proposal.split())
    return FinalText(checked.text, citations, changed, checked.invalid)


def approve(
    *,
    session: Session,
    item_id: int,
    version: int,
    user_id: int,
    text: str | None = None,
    now: datetime | None = None,
) -> ReviewItem:
    """Release the answer to the asker, as drafted or as edited by the reviewer."""
    now = now or utcnow()
    before = _load(session, item_id)
    from_state = effective_state(before, now)
    before_text = before.answer.text
    final = final_text(before.answer, text)
    won = _transition(
        session,
        item_id=item_id,
        version=version,
        user_id=user_id,
        now=now,
        allowed=OPEN_STATES,
        values={
            "state": ReviewState.approved,
            "claimed_by": None,
            "claim_expires_at": None,
            "decided_by": user_id,
            "decided_at": now,
            "edited": final.edited,
            "reject_reason": None,
        },
    )
    if not won:
        raise _refusal(session, item_id=item_id, version=version, user_id=user_id, now=now)
    item = _load(session, item_id)
    answer = item.answer
    answer.status = AnswerStatus.released
    answer.text = final.text
    answer.citations = final.citations
    answer.decided_at = now
    history.record(
        session=session,
        item=item,
        actor_id=user_id,
        action="approve_edited" if final.edited else "approve",
        from_state=from_state.value,
        to_state=item.state.value,
        before_text=before_text,
        after_text=final.text,
        note=" ".join(final.dropped_markers) or None,
        at=now,
    )
    log.info("review %s approved by user %s (edited=%s)", item_id, user_id, final.edited)
    return item


def reject(
    *,
    session: Session,
    item_id: int,
    version: int,
    user_id: int,
    reason: str,
    now: datetime | None = None,
) -> ReviewItem:
    """Refuse the answer; the asker sees a polite message with ``reason``."""
    now = now or utcnow()
    reason = " ".join(reason.split())[:MAX_REJECT_REASON]
    if not reason:
        raise InvalidDecision("review_reason_required")
    before = _load(session, item_id)
    from_state = effective_state(before, now)
    won = _transition(
        session,
        item_id=item_id,
        version=version,
        user_id=user_id,
        now=now,
        allowed=OPEN_STATES,
        values={
            "state": ReviewState.rejected,
            "claimed_by": None,
            "claim_expires_at": None,
            "decided_by": user_id,
            "decided_at": now,
            "edited": False,
            "reject_reason": reason,
        },
    )
    if not won:
        raise _refusal(session, item_id=item_id, version=version, user_id=user_id, now=now)
    item = _load(session, item_id)
    answer = item.answer
    answer.status = AnswerStatus.rejected
    answer.citations = []
    answer.decided_at = now
    history.record(
        session=session,
        item=item,
        actor_id=user_id,
        action="reject",
        from_state=from_state.value,
        to_state=item.state.value,
        before_text=answer.text,
        note=reason,
        at=now,
    )
    log.info("review %s rejected by user %s", item_id, user_id)
    return item
