"""Pages for documents: the agent's upload page, and a document opened at a passage."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import audit
from accounts.errors import NotAllowed
from accounts.permissions import Action, can
from corpora.models import Corpus
from corpora.repository import CorpusError, document_counts, list_corpora, list_documents
from server.deps import CurrentUser, DbSession, State, Tr
from server.documents import service
from server.errors import error_page, to_http
from server.opendata.service import (
    SUGGESTED_LICENCES,
    OpenDataError,
    is_open_data,
    set_open_data,
)
from server.schemas import RowId
from server.security.sessions import actor
from server.sources import service as sources_service
from server.state import state_of
from server.templating import render

router = APIRouter(include_in_schema=False)
Refused = (CorpusError, NotAllowed)


def _denied(request: Request, tr: Tr, refused: Exception) -> Response:
    """Sign in first (nobody signed in), else an error page."""
    error = to_http(refused)
    if error.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return error_page(
        request, tr, status=error.status, message=tr(f"error.{error.code}", **error.values)
    )


@router.get("/documents", response_class=HTMLResponse)
def my_corpora(request: Request, session: DbSession, user: CurrentUser, tr: Tr) -> Response:
    """The corpora the signed-in agent or teacher maintains."""
    if user is None:
        return RedirectResponse("/login?next=/documents", status_code=303)
    corpora = [
        c
        for c in list_corpora(session=session)
        if can(session=session, user=user, action=Action.manage_documents, corpus=c)
    ]
    counts = document_counts(session=session, corpus_ids=[c.id for c in corpora])
    return render(request, "documents_index.html", tr, corpora=corpora, counts=counts)


@router.get("/corpora/{name}/documents", response_class=HTMLResponse)
def documents_page(
    name: str, request: Request, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    try:
        corpus = service.managed_corpus(session, user, name)
    except Refused as error:
        return _denied(request, tr, error)
    if "hx-request" in request.headers:
        return _table(request, session, tr, corpus)
    return whole_page(request, session, tr, corpus)


def _listing(session: DbSession, tr: Tr, corpus: Corpus) -> dict[str, Any]:
    """What both the whole page and the table show: the corpus's documents and their state."""
    documents = [
        service.document_out(d, tr) for d in list_documents(session=session, corpus=corpus)
    ]
    busy = service.busy(documents) or sources_service.sources_busy(session, corpus)
    return {"corpus": corpus, "documents": documents, "busy": busy}


def _table(
    request: Request, session: DbSession, tr: Tr, corpus: Corpus, **context: Any
) -> Response:
    """The documents table alone, as htmx refreshes it while indexing runs."""
    listing = _listing(session, tr, corpus)
    return render(request, "_documents_table.html", tr, **listing, **context)


def whole_page(
    request: Request,
    session: DbSession,
    tr: Tr,
    corpus: Corpus,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **sources_form: Any,
) -> Response:
    """The upload form, the documents, the sources and the open-data choice of one corpus
    (``sources_form``: what the source form sent back with its errors)."""
    settings = state_of(request).settings
    return render(
        request,
        "documents.html",
        tr,
        status_code=status_code,
        flash=request.session.pop("flash", None),
        flash_values=request.session.pop("flash_values", {}),
        **_listing(session, tr, corpus),
        max_mb=settings.max_upload_mb,
        open_data=is_open_data(session=session, corpus=corpus),
        licences=SUGGESTED_LICENCES,
        errors=errors or {},
        **sources_service.sources_context(session, tr, corpus, settings, **sources_form),
    )


@router.post("/corpora/{name}/open-data", response_class=HTMLResponse)
def open_data_choice(
    name: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    licence: Annotated[str, Form(max_length=200)] = "",
    publish: Annotated[bool, Form()] = False,
) -> Response:
    """The owners decide whether the corpus's verified answers are published, and under what."""
    try:
        corpus = service.managed_corpus(session, user, name)
    except Refused as error:
        return _denied(request, tr, error)
    try:
        set_open_data(session=session, corpus=corpus, allowed=publish, licence=licence)
        assert user is not None  # managed_corpus let them in
        audit.record_action(
            session=session,
            event=audit.Event.open_data_changed,
            by=actor(request, user, via="web"),
            corpus=corpus.name,
            published=publish,
        )
    except OpenDataError as error:
        session.rollback()
        message = tr(f"documents.open_data_{error.code}")
        return whole_page(
            request, session, tr, corpus, errors={"licence": message}, status_code=422
        )
    session.commit()
    return RedirectResponse(f"/corpora/{name}/documents#open-data-title", status_code=303)


@router.post("/corpora/{name}/documents", response_class=HTMLResponse)
async def upload_page(
    name: str,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    try:
        corpus = service.managed_corpus(session, user, name)
    except Refused as error:
        return _denied(request, tr, error)
    results = await service.upload_files(
        documents=state.documents,
        session=session,
        corpus=corpus,
        files=list(files),
        user=user,
        tr=tr,
        max_mb=state.settings.max_upload_mb,
        wake=state.worker.wake,
        by=actor(request, user, via="web") if user else None,
    )
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/corpora/{name}/documents", status_code=303)
    return _table(request, session, tr, corpus, results=results)


@router.get("/documents/{document_id}/delete", response_class=HTMLResponse)
def confirm_delete_page(
    document_id: RowId, request: Request, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    """« Supprimer » asks first: what goes, what stays (the versions, in the history)."""
    try:
        document = service.managed_document(session, user, document_id)
    except Refused as error:
        return _denied(request, tr, error)
    return render(request, "document_delete.html", tr, document=document)


@router.post("/documents/{document_id}/delete", response_class=HTMLResponse)
async def delete_page(
    document_id: RowId,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        document = service.managed_document(session, user, document_id)
    except Refused as error:
        return _denied(request, tr, error)
    if confirm != "yes":  # a form without the confirmation deletes nothing: ask
        return RedirectResponse(f"/documents/{document_id}/delete", status_code=303)
    name, title = document.corpus.name, document.title or document.filename
    assert user is not None  # managed_document let them in
    who = actor(request, user, via="web")
    await to_thread.run_sync(
        lambda: service.delete_document(
            documents=state.documents, session=session, document=document, by=who
        )
    )
    request.session["flash"] = "documents.deleted"
    request.session["flash_values"] = {"title": title}
    return RedirectResponse(f"/corpora/{name}/documents", status_code=303)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    document_id: RowId,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    passage: str | None = None,
) -> Response:
    """A document as indexed, the cited passage highlighted (opened from a citation)."""
    document = service.readable_document(session, user, document_id)
    if document is None:
        return error_page(request, tr, status=404, message=tr("error.unknown_document"))
    chunks = state.index.document_chunks(corpus=document.corpus.name, document_id=str(document.id))
    return render(request, "document.html", tr, document=document, chunks=chunks, passage=passage)
