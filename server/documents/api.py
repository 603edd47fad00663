"""The documents API: upload (several files), list, status, delete."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from corpora import originals
from corpora.repository import list_documents
from server.deps import CurrentUser, DbSession, State, Tr
from server.documents import service
from server.documents.schemas import DocumentOut, DocumentsOut, UploadOut
from server.schemas import RowId, error_responses
from server.security.sessions import actor

router = APIRouter(prefix="/api/v1", tags=["documents"])
ERRORS = error_responses(
    {
        401: "Not signed in",
        403: "Not an owner of this corpus",
        404: "Unknown corpus or document",
        422: "Invalid request",
    }
)


@router.post(
    "/corpora/{name}/documents",
    response_model=UploadOut,
    status_code=202,
    responses={**ERRORS, 413: {"model": UploadOut, "description": "Every file refused"}},
)
async def upload(
    name: str,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    files: Annotated[list[UploadFile], File(description="One or more documents.")],
) -> JSONResponse:
    """Add documents (or new versions) to a corpus; indexing continues in the background."""
    corpus = service.managed_corpus(session, user, name)
    results = await service.upload_files(
        documents=state.documents,
        session=session,
        corpus=corpus,
        files=list(files),
        user=user,
        tr=tr,
        max_mb=state.settings.max_upload_mb,
        wake=state.worker.wake,
        by=actor(request, user) if user else None,
    )
    first = next((r for r in results if r.document_id is not None), None)
    body = UploadOut(
        document_id=first.document_id if first else None,
        status=first.status if first else None,
        documents=results,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if first else 413)


@router.get("/corpora/{name}/documents", response_model=DocumentsOut, responses=ERRORS)
def documents(name: str, session: DbSession, user: CurrentUser, tr: Tr) -> DocumentsOut:
    """The corpus's documents with their status, version and chunk count."""
    corpus = service.managed_corpus(session, user, name)
    return DocumentsOut(
        documents=[
            service.document_out(d, tr) for d in list_documents(session=session, corpus=corpus)
        ]
    )


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=ERRORS)
def document(document_id: RowId, session: DbSession, user: CurrentUser, tr: Tr) -> DocumentOut:
    """One document: `queued|processing|indexed|failed`, error, version, chunks, history."""
    return service.document_out(service.managed_document(session, user, document_id), tr)


@router.get(
    "/documents/{document_id}/original",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def original(
    document_id: RowId,
    state: State,
    session: DbSession,
    user: CurrentUser,
    version: Annotated[int | None, Query(ge=1, description="A version of the history.")] = None,
) -> StreamingResponse:
    """The uploaded file of the version search serves (owners: any version), streamed from
    the database: any app host serves it."""
    found = service.original_file(session, user, document_id, version)
    session.close()  # the parts are read in their own short transactions
    return StreamingResponse(
        originals.stream(sessions=state.sessions, version_id=found.version_id),
        media_type=found.media_type,
        headers={
            "Content-Length": str(found.size_bytes),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete("/documents/{document_id}", status_code=204, responses=ERRORS)
async def delete(
    document_id: RowId, request: Request, state: State, session: DbSession, user: CurrentUser
) -> Response:
    """Remove a document from every index; its versions stay in the history, and the
    verified answers citing it are withdrawn."""
    document = service.managed_document(session, user, document_id)
    assert user is not None  # managed_document let them in
    who = actor(request, user)
    await to_thread.run_sync(
        lambda: service.delete_document(
            documents=state.documents, session=session, document=document, by=who
        )
    )
    return Response(status_code=204)
