"""Review pages: the queue, an item with its actions, and the dashboard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.models import User
from corpora.models import Corpus
from review import queue, stats
from review.models import ReviewItem, ReviewState
from review.policy import Reason
from server.deps import CurrentUser, DbSession, State, Tr
from server.errors import to_http
from server.i18n import Translator
from server.navigation import navigation_of
from server.reviews.service import (
    act,
    corpora_overview,
    overdue_after,
    review_out,
    reviewable_corpora,
    stats_out,
    visible_item,
)
from server.templating import render

router = APIRouter(include_in_schema=False)
ACTIONS = ("claim", "release", "approve", "reject")


def duration(tr: Translator, seconds: float) -> str:
    """A waiting time people read at a glance (« 2 h 05 min »): :meth:`Translator.duration`."""
    return tr.duration(seconds)


def _page(request: Request, name: str, tr: Tr, status_code: int = 200, **context: Any) -> Any:
    return render(
        request,
        name,
        tr,
        status_code=status_code,
        duration=lambda s: duration(tr, s),
        clock=lambda moment: tr.time(moment) if moment else "",
        reviewer=True,
        **context,
    )


def _reviewer(
    request: Request, session: DbSession, user: User | None, tr: Tr
) -> list[Corpus] | Response:
    """The corpora the caller reviews, or the page to show instead (sign in, forbidden)."""
    if user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    corpora = reviewable_corpora(session=session, user=user)
    if not corpora:
        return render(
            request,
            "review_forbidden.html",
            tr,
            status_code=403,
            message=tr("error.not_a_reviewer"),
        )
    return corpora


@router.get("/relecture", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    corpus: str = "",
    state: str = "",
    reason: str = "",
) -> Response:
    corpora = _reviewer(request, session, user, tr)
    if isinstance(corpora, Response):
        return corpora
    chosen = [c for c in corpora if not corpus or c.name == corpus]
    by_id = {c.id: c for c in chosen}
    wanted = ReviewState(state) if state in ReviewState.__members__ else None
    items = queue.list_items(
        session=session,
        corpus_ids=set(by_id),
        state=wanted,
        reason=reason if reason in Reason.__members__ else None,
    )
    reviews = [
        review_out(i, session=session, corpus=by_id[i.corpus_id], tr=tr, user=user) for i in items
    ]
    context: dict[str, Any] = {
        "corpora": corpora,
        "reviews": reviews,
        "filters": {"corpus": corpus, "state": state, "reason": reason},
        "states": [s.value for s in ReviewState],
        "reasons": [r.value for r in Reason],
    }
    if "hx-request" in request.headers:
        return _page(request, "_review_list.html", tr, **context)
    assert user is not None
    return _page(request, "review_queue.html", tr, mine=corpora_overview(session, user), **context)


@router.get("/relecture/attente", response_class=HTMLResponse)
def waiting_count(request: Request, session: DbSession, user: CurrentUser, tr: Tr) -> Response:
    """The menu's waiting count alone: the header polls it (nothing for non-reviewers)."""
    nav = navigation_of(session=session, user=user)
    if not nav.review:
        return Response(status_code=204)
    return render(request, "_nav_waiting.html", tr, nav=nav)


@router.get("/relecture/tableau", response_class=HTMLResponse)
def dashboard_page(
    request: Request, state: State, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    corpora = _reviewer(request, session, user, tr)
    if isinstance(corpora, Response):
        return corpora
    board = stats.dashboard(
        session=session,
        corpus_ids={c.id for c in corpora},
        overdue_after=overdue_after(state.settings),
    )
    return _page(request, "review_dashboard.html", tr, stats=stats_out(board))


def _item_context(
    request: Request, session: DbSession, user: User, tr: Tr, review_id: int
) -> tuple[Corpus, ReviewItem] | Response:
    corpora = _reviewer(request, session, user, tr)
    if isinstance(corpora, Response):
        return corpora
    try:
        item = visible_item(session=session, item_id=review_id, corpora=corpora)
    except queue.ReviewNotFound:
        return render(
            request,
            "review_forbidden.html",
            tr,
            status_code=404,
            message=tr("error.review_not_found"),
        )
    corpus = next(c for c in corpora if c.id == item.corpus_id)
    return corpus, item


@router.get("/relecture/{review_id}", response_class=HTMLResponse)
def item_page(
    request: Request, review_id: int, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    found = _item_context(request, session, user, tr, review_id)  # type: ignore[arg-type]
    if isinstance(found, Response):
        return found
    corpus, item = found
    review = review_out(item, session=session, corpus=corpus, tr=tr, user=user)
    return _page(request, "review_item.html", tr, review=review, message=None, error=None)


@router.post("/relecture/{review_id}/{action}", response_class=HTMLResponse)
def item_action(
    request: Request,
    state: State,
    review_id: int,
    action: str,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    version: int = Form(...),
    answer: str | None = Form(None),
    reason: str | None = Form(None),
    save_verified: bool = Form(False),
) -> Response:
    """One action from the item page; htmx gets the panel back, others a redirect."""
    if action not in ACTIONS:
        return render(
            request, "review_forbidden.html", tr, status_code=404, message=tr("error.not_found")
        )
    found = _item_context(request, session, user, tr, review_id)  # type: ignore[arg-type]
    if isinstance(found, Response):
        return found
    corpus, item = found
    assert user is not None
    status = 200
    message: str | None = tr(f"review.done.{action}")
    error: str | None = None
    try:
        item = act(
            action,
            session=session,
            index=state.index,
            user=user,
            item=item,
            corpus=corpus,
            version=version,
            tr=tr,
            text=answer if action == "approve" else None,
            reason=reason,
            save_verified=save_verified,
        )
    except queue.ReviewError as refused:
        http = to_http(refused)
        status, message = http.status, None
        error = tr(f"error.{http.code}", **http.values)
        item = visible_item(session=session, item_id=review_id, corpora=[corpus])
    if "hx-request" not in request.headers and error is None:
        return RedirectResponse(f"/relecture/{review_id}", status_code=303)
    session.refresh(item)
    review = review_out(item, session=session, corpus=corpus, tr=tr, user=user)
    name = "_review_panel.html" if "hx-request" in request.headers else "review_item.html"
    return _page(request, name, tr, status_code=status, review=review, message=message, error=error)
