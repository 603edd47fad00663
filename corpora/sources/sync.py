"""One synchronisation run of a source: changes, not copies, through the document lifecycle.

For each page or file its reader reports (corpora/sources/fetching.py):

- new → :meth:`DocumentLifecycle.accept` opens a document, indexed at the end of the run;
- changed → a new version of the same document (the lifecycle's hooks withdraw the verified
  answers that cited the old one once it is live);
- unchanged (validators or hash) → nothing at all;
- gone → :meth:`DocumentLifecycle.delete`; but when more than ``max_removal_ratio`` of what
  the source had would go, the run removes nothing and waits for an owner's confirmation.

Only documents the source brought in (its :class:`SourceItem` rows) are ever replaced or
removed: documents uploaded by hand are not the source's. A run holds a lease on its source
in the database, so there is one run per source at a time across workers and hosts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from corpora.lifecycle import DocumentLifecycle
from corpora.models import Document, DocumentStatus, DocumentVersion
from corpora.sources.fetching import (
    Failed,
    Fetched,
    Gone,
    Known,
    Progress,
    Reader,
    SourceFailure,
    Unchanged,
)
from corpora.sources.models import RunStatus, Source, SourceItem, SourceRun
from corpora.sources.repository import release_lease, renew_lease, take_lease
from corpora.uploads import UploadError, safe_filename
from database import transaction, utcnow

log = logging.getLogger(__name__)
# How long a run waits for versions another worker is indexing before it reports.
INDEXING_WAIT_S = 600

LEASE_TTL = timedelta(minutes=10)
ReaderFactory = Callable[[Source], Reader]


class SyncBusy(Exception):
    """Another worker (or host) is running this source now."""


@dataclass
class RunReport:
    """What a run did; the same keys go to the page, the API and ``guichet sync --json``."""

    run_id: int
    source_id: int
    corpus: str
    kind: str
    location: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    held_removals: list[str] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "duration_s": self.duration_s}


def report_of(run: SourceRun, source: Source) -> RunReport:
    return RunReport(
        run_id=run.id,
        source_id=source.id,
        corpus=source.corpus.name,
        kind=source.kind.value,
        location=source.location,
        trigger=run.trigger,
        status=run.status.value,
        started_at=run.started_at,
        finished_at=run.finished_at,
        added=run.added,
        updated=run.updated,
        unchanged=run.unchanged,
        removed=run.removed,
        failed=run.failed,
        failures=list(run.failures),
        held_removals=list(run.held_removals),
        error_code=run.error_code,
        error=run.error,
    )


def worker_name() -> str:
    """Who holds a lease: host, process and a random tag (two threads never share one)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _Queued:
    key: str
    document_id: int
    version: int
    new: bool


class Synchronizer:
    """Runs sources of this instance through its document lifecycle."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        documents: DocumentLifecycle,
        open_reader: ReaderFactory,
        max_removal_ratio: float = 0.2,
        lease_ttl: timedelta = LEASE_TTL,
    ) -> None:
        self._sessions = sessions
        self._documents = documents
        self._open_reader = open_reader
        self.max_removal_ratio = max_removal_ratio
        self._lease_ttl = lease_ttl

    def run(self, source_id: int, *, trigger: str, progress: Progress | None = None) -> RunReport:
        """One run now; raises :class:`SyncBusy` when another holds the source."""
        owner = worker_name()
        with transaction(self._sessions) as session:
            if not take_lease(
                session=session, source_id=source_id, owner=owner, ttl=self._lease_ttl
            ):
                raise SyncBusy(source_id)
        try:
            return _Run(self, source_id, owner, trigger, progress).go()
        finally:
            with transaction(self._sessions) as session:
                release_lease(session=session, source_id=source_id, owner=owner)


class _Run:
    """The state of one run; :meth:`go` does it."""

    def __init__(
        self,
        sync: Synchronizer,
        source_id: int,
        owner: str,
        trigger: str,
        progress: Progress | None,
    ) -> None:
        self.sync = sync
        self.sessions = sync._sessions
        self.documents = sync._documents
        self.source_id = source_id
        self.owner = owner
        self._report = progress or (lambda phase, done, total: None)
        self._renewed = time.monotonic()
        self.queued: list[_Queued] = []
        self.gone: list[str] = []
        with transaction(self.sessions) as session:
            source = session.get_one(Source, source_id)
            self.confirmed = source.removals_confirmed
            self.known = {
                item.key: Known(
                    item.etag, item.last_modified, item.fetched_sha256, tuple(item.links)
                )
                for item in session.scalars(
                    select(SourceItem).where(SourceItem.source_id == source_id)
                )
            }
            run = SourceRun(source_id=source_id, trigger=trigger, status=RunStatus.running)
            session.add(run)
            session.flush()
            self.run = run
            self.run.failures = []
        log.info("source %s: run %s started (%s)", source_id, run.id, trigger)

    def go(self) -> RunReport:
        run = self.run
        try:
            with transaction(self.sessions) as session:
                reader = self.sync._open_reader(session.get_one(Source, self.source_id))
            try:
                self._walk(reader)
            finally:
                reader.close()
        except SourceFailure as failure:
            run.status = RunStatus.failed
            run.error_code, run.error = failure.code, failure.detail[:1000] or None
            log.warning("source %s: run failed: %s", self.source_id, failure.code)
        except Exception as error:  # noqa: BLE001 - recorded, and nothing is removed
            log.exception("source %s: run failed unexpectedly", self.source_id)
            run.status = RunStatus.failed
            run.error_code, run.error = "internal", type(error).__name__
        if run.status is RunStatus.running:
            self._remove_or_hold()
        self._index()
        return self._finish()

    # -- walking the source ----------------------------------------------------------------

    def _walk(self, reader: Reader) -> None:
        done = 0
        for outcome in reader.walk(self.known):
            done += 1
            self.progress("fetching", done, reader.total)
            if isinstance(outcome, Fetched):
                self._accept(outcome)
            elif isinstance(outcome, Unchanged):
                self.run.unchanged += 1
                self._touch(outcome)
            elif isinstance(outcome, Failed):
                self._fail(outcome.key, outcome.code, outcome.detail)
            elif isinstance(outcome, Gone) and outcome.key in self.known:
                self.gone.append(outcome.key)

    def progress(self, phase: str, done: int, total: int | None) -> None:
        """Tell the caller, and keep the lease while the run goes on."""
        self._report(phase, done, total)
        if time.monotonic() - self._renewed < 30:
            return
        self._renewed = time.monotonic()
        with transaction(self.sessions) as session:
            renew_lease(
                session=session,
                source_id=self.source_id,
                owner=self.owner,
                ttl=self.sync._lease_ttl,
            )

    def _fail(self, key: str, code: str, detail: str = "") -> None:
        self.run.failed += 1
        self.run.failures = [*self.run.failures, {"item": key, "code": code, "detail": detail}]

    def _accept(self, fetched: Fetched) -> None:
        with transaction(self.sessions) as session:
            source = session.get_one(Source, self.source_id)
            item = session.scalar(
                select(SourceItem).where(
                    SourceItem.source_id == self.source_id, SourceItem.key == fetched.key
                )
            )
            if item is not None:
                filename = session.get_one(Document, item.document_id).filename
            else:
                filename = _free_filename(session, source.corpus_id, fetched.filename, fetched.key)
            try:
                accepted = self.documents.accept(
                    session=session,
                    corpus=source.corpus,
                    filename=filename,
                    data=fetched.data,
                    source_url=fetched.url,
                )
            except UploadError as error:
                session.rollback()
                self._fail(fetched.key, error.code)
                return
            if item is None:
                item = SourceItem(
                    source_id=self.source_id, document_id=accepted.document_id, key=fetched.key
                )
                session.add(item)
            item.etag, item.last_modified = fetched.etag, fetched.last_modified
            item.fetched_sha256, item.links = fetched.sha256, list(fetched.links)
            item.seen_at = utcnow()
        if accepted.unchanged:
            self.run.unchanged += 1
        else:
            new = fetched.key not in self.known
            self.queued.append(_Queued(fetched.key, accepted.document_id, accepted.version, new))
            if new:
                self.run.added += 1
            else:
                self.run.updated += 1

    def _touch(self, unchanged: Unchanged) -> None:
        """Keep the newest validators (and links) of an unchanged item."""
        known = self.known.get(unchanged.key)
        if known is None or (
            (known.etag, known.last_modified, known.links)
            == (unchanged.etag, unchanged.last_modified, unchanged.links)
        ):
            return
        with transaction(self.sessions) as session:
            item = session.scalar(
                select(SourceItem).where(
                    SourceItem.source_id == self.source_id, SourceItem.key == unchanged.key
                )
            )
            if item is not None:
                item.etag, item.last_modified = unchanged.etag, unchanged.last_modified
                item.links = list(unchanged.links)
                item.seen_at = utcnow()

    # -- removals --------------------------------------------------------------------------

    def _remove_or_hold(self) -> None:
        if not self.gone:
            self.run.status = RunStatus.done
            return
        too_many = len(self.gone) > self.sync.max_removal_ratio * len(self.known)
        if too_many and not self.confirmed:
            self.run.status = RunStatus.held
            self.run.held_removals = list(self.gone)
            log.warning(
                "source %s: %d of %d documents would go; waiting for an owner",
                self.source_id,
                len(self.gone),
                len(self.known),
            )
            return
        for key in self.gone:
            with transaction(self.sessions) as session:
                item = session.scalar(
                    select(SourceItem).where(
                        SourceItem.source_id == self.source_id, SourceItem.key == key
                    )
                )
                if item is None:
                    continue
                document = session.get(Document, item.document_id)
                if document is not None and document.deleted_at is None:
                    self.documents.delete(session=session, document=document)
                session.delete(item)
            self.run.removed += 1
        self.run.status = RunStatus.done
        self.confirmed = False

    # -- indexing --------------------------------------------------------------------------

    def _wait_until_indexed(self, timeout_s: float = INDEXING_WAIT_S) -> None:
        """Another worker of the app may have claimed some of this run's versions: the
        run ends when each is indexed or failed, whoever did it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with transaction(self.sessions) as session:
                waiting = [
                    v
                    for q in self.queued
                    if (
                        v := session.scalar(
                            select(DocumentVersion.status).where(
                                DocumentVersion.document_id == q.document_id,
                                DocumentVersion.version == q.version,
                            )
                        )
                    )
                    in (DocumentStatus.queued, DocumentStatus.processing)
                ]
            if not waiting:
                return
            time.sleep(0.2)
        log.warning("sync: %d version(s) still being indexed by another worker", len(waiting))

    def _index(self) -> None:
        """Index what this run queued (and whatever else waits: claims keep that safe),
        then count as failed the versions that could not be indexed."""
        if not self.queued:
            return
        self.documents.index_pending(
            lambda phase, done, total: self.progress("indexing", done, total)
        )
        self._wait_until_indexed()
        with transaction(self.sessions) as session:
            for queued in self.queued:
                version = session.scalar(
                    select(DocumentVersion).where(
                        DocumentVersion.document_id == queued.document_id,
                        DocumentVersion.version == queued.version,
                    )
                )
                if version is None or version.status != DocumentStatus.failed:
                    continue
                if queued.new:
                    self.run.added -= 1
                else:
                    self.run.updated -= 1
                self._fail(queued.key, version.error_code or "internal", version.error or "")
                item = session.scalar(
                    select(SourceItem).where(
                        SourceItem.source_id == self.source_id, SourceItem.key == queued.key
                    )
                )
                if item is not None:
                    item.fetched_sha256 = None  # try again next run

    # -- the record ------------------------------------------------------------------------

    def _finish(self) -> RunReport:
        with transaction(self.sessions) as session:
            run = session.get_one(SourceRun, self.run.id)
            source = session.get_one(Source, self.source_id)
            for name in ("status", "added", "updated", "unchanged", "removed", "failed"):
                setattr(run, name, getattr(self.run, name))
            run.failures = list(self.run.failures)
            run.held_removals = list(self.run.held_removals)
            run.error_code, run.error = self.run.error_code, self.run.error
            run.finished_at = utcnow()
            source.next_run_at = run.finished_at + timedelta(seconds=source.every_s)
            source.run_requested = False
            source.removals_confirmed = self.confirmed
            report = report_of(run, source)
        log.info(
            "source %s: run %s %s: +%d ~%d =%d -%d !%d",
            report.source_id,
            report.run_id,
            report.status,
            report.added,
            report.updated,
            report.unchanged,
            report.removed,
            report.failed,
        )
        return report


def _free_filename(session: Session, corpus_id: int, name: str, key: str) -> str:
    """``name``, or ``name ~tag`` when a document of the corpus already has it (a document
    uploaded by hand, or another source's): a sync never writes into someone else's."""
    name = safe_filename(name)
    taken = session.scalar(
        select(Document.id).where(Document.corpus_id == corpus_id, Document.filename == name)
    )
    if taken is None:
        return name
    tag = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ~{tag}.{ext}" if dot else f"{name} ~{tag}"
