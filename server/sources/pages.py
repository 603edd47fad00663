"""The sources on the documents page: add one, run one now (confirming held removals),
remove one, and the list that refreshes itself while a run goes on.

Forms post and redirect, so everything works without JavaScript; htmx only refreshes the
list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from accounts.errors import NotAllowed
from corpora.repository import CorpusError
from server.deps import CurrentUser, DbSession, State, Tr
from server.documents.pages import _denied, whole_page
from server.documents.service import managed_corpus
from server.schemas import RowId
from server.security.sessions import actor
from server.sources import service
from server.sources.schemas import SourceIn
from server.templating import render

router = APIRouter(include_in_schema=False)
Refused = (CorpusError, NotAllowed)


def _back(name: str, anchor: str = "sources-title") -> RedirectResponse:
    return RedirectResponse(f"/corpora/{name}/documents#{anchor}", status_code=303)


@router.get("/corpora/{name}/sources", response_class=HTMLResponse)
def sources_list(
    name: str, request: Request, state: State, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    """The list alone for htmx (it polls while a run goes on); else the documents page."""
    try:
        corpus = managed_corpus(session, user, name)
    except Refused as error:
        return _denied(request, tr, error)
    if "hx-request" not in request.headers:
        return _back(name)
    context = service.sources_context(session, tr, corpus, state.settings)
    return render(request, "_sources_list.html", tr, corpus=corpus, **context)


@router.post("/corpora/{name}/sources", response_class=HTMLResponse)
def add_source(
    name: str,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    kind: Annotated[str, Form(max_length=20)] = "website",
    location: Annotated[str, Form(max_length=2000)] = "",
    every: Annotated[str, Form(max_length=40)] = "",
    username: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        corpus = managed_corpus(session, user, name)
    except Refused as error:
        return _denied(request, tr, error)
    assert user is not None
    form = {"kind": kind, "location": location, "every": every, "username": username}
    try:
        data = SourceIn(
            kind=kind,
            location=location.strip(),
            every=every.strip() or None,
            username=username.strip() or None,
            password=password or None,
        )
        source = service.add(
            session=session,
            corpus=corpus,
            data=data,
            by=actor(request, user, via="web"),
            settings=state.settings,
            secrets=state.secrets,
        )
    except (ValidationError, CorpusError) as error:
        session.rollback()
        errors = {"source-location": _message(tr, error)}
        return whole_page(
            request,
            session,
            tr,
            corpus,
            status_code=422,
            source_errors=errors,
            source_form=form,
        )
    session.commit()
    state.sync_worker.wake()
    return _back(name, f"source-{source.id}")


def _message(tr: Tr, error: Exception) -> str:
    if isinstance(error, CorpusError):
        return tr(f"error.{error.code}", **error.details)
    fields = ", ".join(str(e["loc"][-1]) for e in error.errors())  # type: ignore[attr-defined]
    return tr("error.invalid_request", fields=fields)


@router.post("/sources/{source_id}/sync", response_class=HTMLResponse)
def sync_now(
    source_id: RowId,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    confirm_removals: Annotated[bool, Form()] = False,
) -> Response:
    try:
        source = service.managed_source(session, user, source_id)
    except Refused as error:
        return _denied(request, tr, error)
    assert user is not None
    service.ask_for_run(
        session=session,
        source=source,
        by=actor(request, user, via="web"),
        confirm_removals=confirm_removals,
    )
    name = source.corpus.name
    session.commit()
    state.sync_worker.wake()
    return _back(name, f"source-{source_id}")


@router.post("/sources/{source_id}/delete", response_class=HTMLResponse)
def remove_source(
    source_id: RowId, request: Request, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    try:
        source = service.managed_source(session, user, source_id)
    except Refused as error:
        return _denied(request, tr, error)
    assert user is not None
    name = source.corpus.name
    service.remove(session=session, source=source, by=actor(request, user, via="web"))
    return _back(name)
