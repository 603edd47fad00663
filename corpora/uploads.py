"""The upload workflow: keep the original, open a version, have it indexed.

An upload is accepted in a transaction that stores the original file and a
``queued`` version; indexing happens afterwards (a background worker in the
app, or in the foreground for ``guichet ingest``). Nothing is lost when the
process dies: a version left ``processing`` is queued again at the next start.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from corpora.db import transaction, utcnow
from corpora.models import Corpus, Document, DocumentStatus, DocumentVersion
from retrieval.chunking import chunk_document
from retrieval.parsing import ParseError, parse_document
from retrieval.types import Chunk

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total) while a version is indexed."""


class Index(Protocol):
    """What the upload workflow needs from the search index."""

    def replace_document(
        self,
        *,
        corpus: str,
        document_id: str,
        version: int,
        chunks: list[Chunk],
        progress: Callable[[int, int], None] | None = None,
    ) -> None: ...

    def delete_document(self, *, corpus: str, document_id: str) -> None: ...


class UploadError(Exception):
    """An upload refused before it is stored; ``code`` names why."""

    def __init__(self, code: str, filename: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.filename = filename
        self.details = details


@dataclass(frozen=True)
class Accepted:
    document_id: int
    version: int
    status: DocumentStatus
    unchanged: bool


def safe_filename(name: str) -> str:
    """The last path component, normalised, without control or path characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190 - len(ext)] + dot + ext) if dot else name[:200]
    return name or "document"


def accept_upload(
    *,
    session: Session,
    corpus: Corpus,
    filename: str,
    data: bytes,
    uploads_dir: Path,
    max_bytes: int,
    uploaded_by: int | None = None,
) -> Accepted:
    """Store the original and open a queued version; identical content is a no-op."""
    filename = safe_filename(filename)
    if len(data) > max_bytes:
        raise UploadError("too_large", filename, size=len(data), limit=max_bytes)
    if not data.strip():
        raise UploadError("empty", filename)
    digest = hashlib.sha256(data).hexdigest()
    document = session.scalar(
        select(Document).where(Document.corpus_id == corpus.id, Document.filename == filename)
    )
    if document is None:
        document = Document(corpus_id=corpus.id, filename=filename, status=DocumentStatus.queued)
        session.add(document)
        session.flush()
    elif document.deleted_at is None and document.versions:
        latest = document.versions[-1]
        if latest.sha256 == digest and latest.status != DocumentStatus.failed:
            return Accepted(document.id, latest.version, latest.status, unchanged=True)

    version = document.latest_version + 1
    target = uploads_dir / corpus.name / str(document.id) / f"v{version}{Path(filename).suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)

    session.add(
        DocumentVersion(
            document_id=document.id,
            version=version,
            sha256=digest,
            size_bytes=len(data),
            stored_path=str(target),
            status=DocumentStatus.queued,
            uploaded_by=uploaded_by,
        )
    )
    document.latest_version = version
    document.status = DocumentStatus.queued
    document.error = document.error_code = None
    document.deleted_at = None
    session.flush()
    log.info("document %s of corpus %s: version %s queued", document.id, corpus.name, version)
    return Accepted(document.id, version, DocumentStatus.queued, unchanged=False)


class Ingestor:
    """Turns queued versions into indexed ones, one at a time per worker."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        index: Index,
        max_bytes: int,
        on_indexed: Callable[[int, int], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._max_bytes = max_bytes
        # Called with (document id, version) once a version serves search: what depends
        # on the old content (verified answers citing it) is told without corpora/
        # importing review/.
        self._on_indexed = on_indexed

    def claim_next(self) -> int | None:
        """Claim the oldest queued version; safe with several workers."""
        with transaction(self._sessions) as session:
            candidates = session.scalars(
                select(DocumentVersion.id)
                .where(DocumentVersion.status == DocumentStatus.queued)
                .order_by(DocumentVersion.id)
                .limit(5)
            ).all()
            for version_id in candidates:
                claimed = session.execute(
                    update(DocumentVersion)
                    .where(
                        DocumentVersion.id == version_id,
                        DocumentVersion.status == DocumentStatus.queued,
                    )
                    .values(status=DocumentStatus.processing, claimed_at=utcnow())
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return version_id
        return None

    def requeue_stale(self, *, older_than: timedelta) -> int:
        """Queue again the versions a dead worker left half-done."""
        with transaction(self._sessions) as session:
            result = session.execute(
                update(DocumentVersion)
                .where(
                    DocumentVersion.status == DocumentStatus.processing,
                    DocumentVersion.claimed_at < utcnow() - older_than,
                )
                .values(status=DocumentStatus.queued, claimed_at=None)
            )
            count = int(result.rowcount)  # type: ignore[attr-defined]
        if count:
            log.warning("%d interrupted document versions queued again", count)
        return count

    def process(self, version_id: int, progress: Progress | None = None) -> DocumentVersion:
        """Parse, chunk and index one claimed version; failures are recorded, not raised."""
        with transaction(self._sessions) as session:
            version = session.get_one(DocumentVersion, version_id)
            document = version.document
            corpus_name = document.corpus.name
            document.status = DocumentStatus.processing
            path, filename, number = Path(version.stored_path), document.filename, version.version
        report = self._recorder(version_id, progress)
        try:
            report("parsing", 0, 1)
            parsed = parse_document(path.read_bytes(), filename=filename, max_bytes=self._max_bytes)
            chunks = chunk_document(parsed, document_id=str(document.id), version=number)
            if not chunks:
                raise ParseError("empty", filename, "no text")
            report("indexing", 0, len(chunks))
            self._index.replace_document(
                corpus=corpus_name,
                document_id=str(document.id),
                version=number,
                chunks=chunks,
                progress=lambda done, total: report("indexing", done, total),
            )
        except ParseError as error:
            return self._finish(version_id, error_code=error.code, error=error.detail)
        except Exception as error:  # noqa: BLE001 - a bad file must not stop the worker
            log.exception("indexing document %s version %s failed", document.id, number)
            return self._finish(version_id, error_code="internal", error=type(error).__name__)
        finished = self._finish(version_id, title=parsed.title, chunk_count=len(chunks))
        if self._on_indexed is not None and finished.status == DocumentStatus.indexed:
            try:
                self._on_indexed(finished.document_id, finished.version)
            except Exception:  # noqa: BLE001 - indexing succeeded; the hook must not undo it
                log.exception("on_indexed hook failed for document %s", finished.document_id)
        return finished

    def _recorder(self, version_id: int, progress: Progress | None) -> Progress:
        """Report progress to the caller and, now and then, to the database (for pages)."""
        last = [0.0]

        def report(phase: str, done: int, total: int) -> None:
            if progress is not None:
                progress(phase, done, total)
            now = time.monotonic()
            if now - last[0] < 0.5 and done < total:
                return
            last[0] = now
            with transaction(self._sessions) as session:
                session.execute(
                    update(DocumentVersion)
                    .where(DocumentVersion.id == version_id)
                    .values(progress_done=done, progress_total=total)
                )

        return report

    def _finish(
        self,
        version_id: int,
        *,
        title: str | None = None,
        chunk_count: int = 0,
        error_code: str | None = None,
        error: str | None = None,
    ) -> DocumentVersion:
        with transaction(self._sessions) as session:
            version = session.get_one(DocumentVersion, version_id)
            document = version.document
            if error_code is None:
                version.status = DocumentStatus.indexed
                version.chunk_count = chunk_count
                version.indexed_at = utcnow()
                document.indexed_version = version.version
                document.chunk_count = chunk_count
                document.title = (title or document.filename)[:300]
                document.status = DocumentStatus.indexed
                document.error = document.error_code = None
                log.info(
                    "document %s version %s indexed: %d chunks",
                    document.id,
                    version.version,
                    chunk_count,
                )
            else:
                version.status = DocumentStatus.failed
                version.error_code, version.error = error_code, error
                document.status = DocumentStatus.failed
                document.error_code, document.error = error_code, error
                log.warning(
                    "document %s version %s failed: %s", document.id, version.version, error_code
                )
            return version


def delete_document(*, session: Session, index: Index, document: Document) -> None:
    """Remove a document from search; its versions stay in the history."""
    index.delete_document(corpus=document.corpus.name, document_id=str(document.id))
    document.deleted_at = utcnow()
    document.indexed_version = None
    document.chunk_count = 0
    session.flush()


def list_documents(*, session: Session, corpus: Corpus) -> list[Document]:
    return list(
        session.scalars(
            select(Document)
            .where(Document.corpus_id == corpus.id, Document.deleted_at.is_(None))
            .order_by(Document.title, Document.filename)
        )
    )
