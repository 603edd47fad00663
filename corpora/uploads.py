"""Accepting an upload: open a ``queued`` version and keep its original in the database
(corpora/originals.py), in the same transaction.

Indexing happens afterwards, through :class:`corpora.lifecycle.DocumentLifecycle` (a
background worker in the app, or in the foreground for ``guichet ingest``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from corpora import originals
from corpora.hygiene import clean_line
from corpora.models import Corpus, Document, DocumentStatus, DocumentVersion

log = logging.getLogger(__name__)


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
    name = clean_line(name.replace("\\", "/").rsplit("/", 1)[-1])
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
    max_bytes: int,
    uploaded_by: int | None = None,
    source_url: str | None = None,
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
    if source_url is not None:
        document.source_url = source_url[:500]

    version = DocumentVersion(
        document_id=document.id,
        version=document.latest_version + 1,
        sha256=digest,
        size_bytes=len(data),
        status=DocumentStatus.queued,
        uploaded_by=uploaded_by,
    )
    session.add(version)
    session.flush()
    originals.put(session=session, version_id=version.id, data=data)
    document.latest_version = version.version
    document.status = DocumentStatus.queued
    document.error = document.error_code = None
    document.deleted_at = None
    session.flush()
    log.info(
        "document %s of corpus %s: version %s queued", document.id, corpus.name, version.version
    )
    return Accepted(document.id, version.version, DocumentStatus.queued, unchanged=False)
