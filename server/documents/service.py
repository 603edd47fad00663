"""The documents feature as the API and the pages share it: which corpus and document the
caller manages, uploading several files, a document's status, deleting.

Plain Python: no FastAPI here (an upload is anything with a file name and an async
``read``, as Starlette's ``UploadFile``). Every change goes through the instance's
:class:`~corpora.lifecycle.DocumentLifecycle`, whose hooks withdraw what cited the old
content.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import User
from accounts.permissions import Action, can, require
from corpora import originals
from corpora.lifecycle import DocumentLifecycle
from corpora.models import Corpus, Document, DocumentStatus
from corpora.repository import CorpusError, get_corpus
from corpora.uploads import UploadError
from server.documents.schemas import DocumentOut, UploadResult, VersionOut
from server.documents.schemas import UploadError as UploadErrorOut
from server.i18n import Translator


class Upload(Protocol):
    """One uploaded file as the web layer hands it over."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


def managed_corpus(session: Session, user: User | None, name: str) -> Corpus:
    """The corpus ``name`` when ``user`` manages its documents; else why not. A corpus the
    caller may not even read (another course) is unknown to them, exactly like a missing
    one: 404 either way, so that its existence is not told."""
    corpus = get_corpus(session=session, name=name)
    if corpus is None or not can(
        session=session, user=user, action=Action.read_documents, corpus=corpus
    ):
        raise CorpusError("unknown_corpus", corpus=name)
    require(
        session=session, user=user, action=Action.manage_documents, corpus=corpus, code="forbidden"
    )
    return corpus


def managed_document(session: Session, user: User | None, document_id: int) -> Document:
    """A live document of a corpus ``user`` manages. Deleted ones, and those of a corpus the
    caller may not read, are unknown (404 whether the id exists or not); one the caller may
    read but not manage is refused (403: its existence is public)."""
    document = readable_document(session, user, document_id)
    if document is None:
        raise CorpusError("unknown_document")
    managed_corpus(session, user, document.corpus.name)
    return document


def readable_document(session: Session, user: User | None, document_id: int) -> Document | None:
    """A live document of a corpus ``user`` may read (None: unknown, as for a course the
    caller does not belong to: its documents' existence is not told)."""
    document = session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        return None
    if not can(session=session, user=user, action=Action.read_documents, corpus=document.corpus):
        return None
    return document


@dataclass(frozen=True)
class OriginalFile:
    """An original as it is downloaded: which stored version, and how to name it."""

    version_id: int
    version: int
    filename: str
    size_bytes: int
    media_type: str


def original_file(
    session: Session, user: User | None, document_id: int, version: int | None = None
) -> OriginalFile:
    """The original of the version search serves, for whoever may read the document; other
    versions of the history (``version``), and one not yet indexed, for its owners only."""
    document = readable_document(session, user, document_id)
    if document is None:
        raise CorpusError("unknown_document")
    number = version or document.indexed_version
    if number is None or number != document.indexed_version:
        managed_corpus(session, user, document.corpus.name)
        number = number or document.latest_version
    found = next((v for v in document.versions if v.version == number), None)
    if found is None or not originals.stored(session=session, version_id=found.id):
        # Not in the database: an older install's file another host has not moved yet.
        raise CorpusError("unknown_document")
    media_type = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
    return OriginalFile(found.id, found.version, document.filename, found.size_bytes, media_type)


async def read_limited(upload: Upload, limit: int) -> bytes | None:
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
    documents: DocumentLifecycle,
    session: Session,
    corpus: Corpus,
    files: list[Upload],
    user: User | None,
    tr: Translator,
    max_mb: float,
    wake: Callable[[], None],
    by: audit.Actor | None = None,
) -> list[UploadResult]:
    """Accept every file it can (each committed on its own, with its audit line); each
    refusal names the file and the reason. ``wake`` starts indexing at once."""
    results: list[UploadResult] = []
    for upload in files:
        name = upload.filename or "document"
        data = await read_limited(upload, documents.max_bytes)
        try:
            if data is None:
                raise UploadError("too_large", name)
            accepted = documents.accept(
                session=session,
                corpus=corpus,
                filename=name,
                data=data,
                uploaded_by=user.id if user else None,
            )
            if by is not None and not accepted.unchanged:
                audit.record_action(
                    session=session,
                    event=audit.Event.document_uploaded,
                    by=by,
                    corpus=corpus.name,
                    document_id=accepted.document_id,
                    version=accepted.version,
                )
            session.commit()
        except UploadError as error:
            session.rollback()
            message = tr(
                f"upload.{error.code}", filename=error.filename, limit=tr.megabytes(max_mb)
            )
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
    wake()
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


def busy(documents: list[DocumentOut]) -> bool:
    return any(d.status in (DocumentStatus.queued, DocumentStatus.processing) for d in documents)


def delete_document(
    *, documents: DocumentLifecycle, session: Session, document: Document, by: audit.Actor
) -> None:
    """Take a document out of service (its versions stay in the history), audited, and
    committed before the caller answers: the request's session would commit only after the
    response is sent, and a client (or another host) asking right after must see it gone."""
    audit.record_action(
        session=session,
        event=audit.Event.document_deleted,
        by=by,
        corpus=document.corpus.name,
        document_id=document.id,
        version=document.latest_version,
    )
    documents.delete(session=session, document=document)
    session.commit()
