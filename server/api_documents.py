"""The documents API: upload (several files), status, delete."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from corpora.uploads import list_documents
from server import documents as service
from server.app_state import state_of
from server.deps import CurrentUser, DbSession, Tr
from server.schemas import ErrorOut
from server.schemas_accounts import RowId
from server.schemas_documents import DocumentOut, DocumentsOut, UploadOut

router = APIRouter(tags=["documents"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in"},
    403: {"model": ErrorOut, "description": "Not an owner of this corpus"},
    404: {"model": ErrorOut, "description": "Unknown corpus or document"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}


@router.post(
    "/api/v1/corpora/{name}/documents",
    response_model=UploadOut,
    status_code=202,
    responses={**ERRORS, 413: {"model": UploadOut, "description": "Every file refused"}},
)
async def upload(
    name: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    files: Annotated[list[UploadFile], File(description="One or more documents.")],
) -> JSONResponse:
    """Add documents (or new versions) to a corpus; indexing continues in the background."""
    corpus = service.managed_corpus(session, user, name)
    results = await service.upload_files(
        state=state_of(request), session=session, corpus=corpus, files=files, user=user, tr=tr
    )
    first = next((r for r in results if r.document_id is not None), None)
    body = UploadOut(
        document_id=first.document_id if first else None,
        status=first.status if first else None,
        documents=results,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if first else 413)


@router.get("/api/v1/corpora/{name}/documents", response_model=DocumentsOut, responses=ERRORS)
def documents(name: str, session: DbSession, user: CurrentUser, tr: Tr) -> DocumentsOut:
    """The corpus's documents with their status, version and chunk count."""
    corpus = service.managed_corpus(session, user, name)
    return DocumentsOut(
        documents=[
            service.document_out(d, tr) for d in list_documents(session=session, corpus=corpus)
        ]
    )


@router.get("/api/v1/documents/{document_id}", response_model=DocumentOut, responses=ERRORS)
def document(document_id: RowId, session: DbSession, user: CurrentUser, tr: Tr) -> DocumentOut:
    """One document: `queued|processing|indexed|failed`, error, version, chunks, history."""
    return service.document_out(service.managed_document(session, user, document_id), tr)


@router.delete("/api/v1/documents/{document_id}", status_code=204, responses=ERRORS)
async def delete(
    document_id: RowId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    """Remove a document from every index; its versions stay in the history."""
    document = service.managed_document(session, user, document_id)
    await to_thread.run_sync(
        lambda: service.remove(state=state_of(request), session=session, document=document)
    )
    return Response(status_code=204)
