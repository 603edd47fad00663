"""The documents service shared by the API and the pages: upload, list, show, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import UploadFile
from sqlalchemy.orm import Session

from corpora.models import Corpus, Document, DocumentStatus
from corpora.repository import get_corpus
from corpora.uploads import UploadError, accept_upload, delete_document
from server.accounts import User
from server.errors import ApiError
from server.i18n import Translator
from server.permissions import Action, can
from server.schemas_documents import DocumentOut, UploadResult, VersionOut
from server.schemas_documents import UploadError as UploadErrorOut

if TYPE_CHECKING:
    from server.app import AppState


def managed_corpus(session: Session, user: User | None, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise ApiError(404, "unknown_corpus", corpus=name)
    if not can(session=session, user=user, action=Action.manage_documents, corpus=corpus):
        raise ApiError(401 if user is None else 403, "forbidden")
    return corpus


def managed_document(session: Session, user: User | None, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        raise ApiError(404, "unknown_document")
    managed_corpus(session, user, document.corpus.name)
    return document


async def read_limited(upload: UploadFile, limit: int) -> bytes | None:
    """The file's bytes, or None as soon as it exceeds ``limit`` (never all in memory)."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def upload_files(
    *,
    state: AppState,
    session: Session,
    corpus: Corpus,
    files: list[UploadFile],
    user: User | None,
    tr: Translator,
) -> list[UploadResult]:
    """Accept every file it can; each refusal names the file and the reason."""
    settings = state.settings
    limit = (
        f"{settings.max_upload_mb:g} Mo"
        if tr.language == "fr"
        else f"{settings.max_upload_mb:g} MB"
    )
    results: list[UploadResult] = []
    for upload in files:
        name = upload.filename or "document"
        data = await read_limited(upload, settings.max_upload_bytes)
        try:
            if data is None:
                raise UploadError("too_large", name)
            accepted = accept_upload(
                session=session,
                corpus=corpus,
                filename=name,
                data=data,
                uploads_dir=settings.uploads_dir,
                max_bytes=settings.max_upload_bytes,
                uploaded_by=user.id if user else None,
            )
            session.commit()
        except UploadError as error:
            session.rollback()
            message = tr(f"upload.{error.code}", filename=error.filename, limit=limit)
            results.append(
                UploadResult(
                    filename=error.filename,
                    document_id=None,
                    status=None,
                    error=UploadErrorOut(code=error.code, message=message),
                )
            )
            continue
        results.append(
            UploadResult(
                filename=name,
                document_id=accepted.document_id,
                status=accepted.status.value,
                version=accepted.version,
                unchanged=accepted.unchanged,
            )
        )
    state.worker.wake()
    return results


def document_out(document: Document, tr: Translator) -> DocumentOut:
    def message(code: str | None, detail: str | None) -> str | None:
        if code is None:
            return None
        return tr(f"upload.{code}", filename=document.filename, limit="") or detail

    latest = document.versions[-1] if document.versions else None
    return DocumentOut(
        id=document.id,
        corpus=document.corpus.name,
        filename=document.filename,
        title=document.title or document.filename,
        status=document.status.value,
        error=message(document.error_code, document.error),
        error_code=document.error_code,
        version=document.latest_version,
        indexed_version=document.indexed_version,
        chunks=document.chunk_count,
        progress_done=latest.progress_done if latest else 0,
        progress_total=latest.progress_total if latest else 0,
        updated_at=document.updated_at,
        versions=[
            VersionOut(
                version=v.version,
                status=v.status.value,
                error=message(v.error_code, v.error),
                error_code=v.error_code,
                chunks=v.chunk_count,
                size_bytes=v.size_bytes,
                created_at=v.created_at,
                indexed_at=v.indexed_at,
            )
            for v in document.versions
        ],
    )


def remove(*, state: AppState, session: Session, document: Document) -> None:
    delete_document(session=session, index=state.index, document=document)


def busy(documents: list[DocumentOut]) -> bool:
    return any(d.status in (DocumentStatus.queued, DocumentStatus.processing) for d in documents)
