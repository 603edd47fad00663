"""The one lifecycle of a document: accepted, indexed, replaced by a new version, deleted.

Every path that changes what search serves goes through :class:`DocumentLifecycle`: the
upload API and page, ``guichet ingest`` and ``guichet demo``, deletion by the API and the
page, and the synchronisation of sources (corpora/sources/sync.py: it calls
:meth:`DocumentLifecycle.accept` for each new or changed page or file,
:meth:`index_pending`, and :meth:`DocumentLifecycle.delete` for each that disappeared).

What depends on a document's content is told through two hooks, each called inside the
transaction that records the change, so the change and its consequences commit together:

- ``on_version_live(session, change)``: a new version now serves search;
- ``on_document_gone(session, change)``: the document no longer serves search.

corpora/ does not know who listens (server/documents/lifecycle.py registers the
withdrawal of verified answers citing the document, from review/): data flows one way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from corpora import claims, originals
from corpora.models import Corpus, Document, DocumentStatus, DocumentVersion
from corpora.uploads import Accepted, accept_upload
from database import transaction, utcnow
from retrieval.chunking import chunk_document
from retrieval.parsing import ParseError, parse_document
from retrieval.parsing.isolated import ParseLimits, parse_isolated
from retrieval.types import Chunk, ParsedDocument

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total) while a version is indexed."""


class Index(Protocol):
    """What the document lifecycle needs from the search index."""

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


@dataclass(frozen=True)
class DocumentChange:
    """What happened to a document: ``version`` is the version now live, None when gone."""

    document_id: int
    corpus: str
    version: int | None


Hook = Callable[[Session, DocumentChange], None]
"""Told of a change inside its transaction; raising undoes the change."""


class DocumentLifecycle:
    """Accepts uploads, indexes queued versions (one at a time per worker), deletes."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        index: Index,
        max_bytes: int,
        limits: ParseLimits | None = None,
        max_chunks: int = 0,
        on_version_live: Sequence[Hook] = (),
        on_document_gone: Sequence[Hook] = (),
    ) -> None:
        self._sessions = sessions
        self._index = index
        self.max_bytes = max_bytes
        # With a time or memory bound, documents are read in a child process.
        self.limits = limits or ParseLimits(max_bytes=max_bytes)
        self.max_chunks = max_chunks
        self._on_version_live = tuple(on_version_live)
        self._on_document_gone = tuple(on_document_gone)

    # -- accepting -------------------------------------------------------------------------

    def accept(
        self,
        *,
        session: Session,
        corpus: Corpus,
        filename: str,
        data: bytes,
        uploaded_by: int | None = None,
        source_url: str | None = None,
    ) -> Accepted:
        """Store the original and queue a version in ``session`` (the caller commits);
        ``source_url`` is where the document lives on the web (its citation link)."""
        return accept_upload(
            session=session,
            corpus=corpus,
            filename=filename,
            data=data,
            max_bytes=self.max_bytes,
            uploaded_by=uploaded_by,
            source_url=source_url,
        )

    # -- indexing --------------------------------------------------------------------------

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
                    .values(
                        status=DocumentStatus.processing,
                        claimed_at=utcnow(),
                        claimed_by=claims.this_process(),
                    )
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return version_id
        return None

    def index_pending(self, progress: Progress | None = None) -> list[DocumentVersion]:
        """Index every queued version in the foreground (``guichet ingest``, tests)."""
        done = []
        version_id = self.claim_next()
        while version_id is not None:
            done.append(self.process(version_id, progress))
            version_id = self.claim_next()
        return done

    def requeue_stale(self, *, older_than: timedelta) -> int:
        """Queue again the versions a dead worker left half-done: at once when their holder
        ran on this machine and is gone (a killed ``guichet ingest`` or app), else once the
        claim is older than ``older_than`` (a holder on another machine)."""
        with transaction(self._sessions) as session:
            claimed = session.execute(
                select(
                    DocumentVersion.id, DocumentVersion.claimed_by, DocumentVersion.claimed_at
                ).where(DocumentVersion.status == DocumentStatus.processing)
            ).all()
            limit = utcnow() - older_than
            count = 0
            for version_id, holder, claimed_at in claimed:
                gone = claims.holder_is_gone(holder)
                if not gone and (claimed_at is None or claimed_at >= limit):
                    continue
                result = session.execute(
                    update(DocumentVersion)
                    .where(
                        DocumentVersion.id == version_id,
                        DocumentVersion.status == DocumentStatus.processing,
                        DocumentVersion.claimed_by.is_(None)
                        if holder is None
                        else DocumentVersion.claimed_by == holder,
                    )
                    .values(status=DocumentStatus.queued, claimed_at=None, claimed_by=None)
                )
                count += int(result.rowcount)  # type: ignore[attr-defined]
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
            filename, number = document.filename, version.version
            try:
                data = originals.read(session=session, version_id=version_id)
            except originals.MissingOriginal:
                data = None
        if data is None:
            # Only an older install's file on another host's disk, which was never started
            # since: the agent is told, and may upload it again.
            return self._failed(version_id, error_code="missing_original", error=None)
        report = self._recorder(version_id, progress)
        try:
            report("parsing", 0, 1)
            parsed = self._parse(data, filename)
            chunks = chunk_document(parsed, document_id=str(document.id), version=number)
            if not chunks:
                raise ParseError("empty", filename, "no text")
            if self.max_chunks and len(chunks) > self.max_chunks:
                raise ParseError("too_many_chunks", filename, f"{len(chunks)} passages")
            report("indexing", 0, len(chunks))
            self._index.replace_document(
                corpus=corpus_name,
                document_id=str(document.id),
                version=number,
                chunks=chunks,
                progress=lambda done, total: report("indexing", done, total),
            )
        except ParseError as error:
            return self._failed(version_id, error_code=error.code, error=error.detail)
        except Exception as error:  # noqa: BLE001 - a bad file must not stop the worker
            log.exception("indexing document %s version %s failed", document.id, number)
            return self._failed(version_id, error_code="internal", error=type(error).__name__)
        return self._live(version_id, title=parsed.title, chunk_count=len(chunks))

    def _parse(self, data: bytes, filename: str) -> ParsedDocument:
        limits = self.limits
        if limits.timeout_s or limits.memory_mb:
            return parse_isolated(data, filename=filename, limits=limits)
        return parse_document(
            data, filename=filename, max_bytes=limits.max_bytes, max_chars=limits.max_chars
        )

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

    def _live(self, version_id: int, *, title: str | None, chunk_count: int) -> DocumentVersion:
        """The version serves search: record it and tell the hooks, in one transaction."""
        with transaction(self._sessions) as session:
            version = session.get_one(DocumentVersion, version_id)
            document = version.document
            version.status = DocumentStatus.indexed
            version.chunk_count = chunk_count
            version.indexed_at = utcnow()
            document.indexed_version = version.version
            document.chunk_count = chunk_count
            document.title = (title or document.filename)[:300]
            document.status = DocumentStatus.indexed
            document.error = document.error_code = None
            session.flush()
            change = DocumentChange(document.id, document.corpus.name, version.version)
            for hook in self._on_version_live:
                hook(session, change)
            log.info(
                "document %s version %s indexed: %d chunks",
                document.id,
                version.version,
                chunk_count,
            )
            return version

    def _failed(self, version_id: int, *, error_code: str, error: str | None) -> DocumentVersion:
        with transaction(self._sessions) as session:
            version = session.get_one(DocumentVersion, version_id)
            document = version.document
            version.status = DocumentStatus.failed
            version.error_code, version.error = error_code, error
            document.status = DocumentStatus.failed
            document.error_code, document.error = error_code, error
            log.warning(
                "document %s version %s failed: %s", document.id, version.version, error_code
            )
            return version

    # -- deleting --------------------------------------------------------------------------

    def delete(self, *, session: Session, document: Document) -> None:
        """Remove a document from search, in ``session`` (the caller commits); its versions
        stay in the history, and the hooks withdraw what cited it."""
        self._index.delete_document(corpus=document.corpus.name, document_id=str(document.id))
        document.deleted_at = utcnow()
        document.indexed_version = None
        document.chunk_count = 0
        session.flush()
        change = DocumentChange(document.id, document.corpus.name, None)
        for hook in self._on_document_gone:
            hook(session, change)
        log.info("document %s of corpus %s deleted", document.id, change.corpus)
