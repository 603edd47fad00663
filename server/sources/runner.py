"""Running sources: the synchroniser of this instance, and the worker thread that runs the
sources that are due (or asked for) inside every app process.

Several processes (``--workers N``) and hosts may run the worker side by side: each run
takes its source's lease in the database first (corpora/sources/repository.py), so a
source is never run twice at once. ``GUICHET_SYNC_SCHEDULER=false`` keeps a process out.
"""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from corpora.lifecycle import DocumentLifecycle
from corpora.sources.fetching import Limits, Progress, SourceFailure
from corpora.sources.models import Source
from corpora.sources.readers import reader_factory
from corpora.sources.repository import due_sources
from corpora.sources.secrets import SecretBox
from corpora.sources.sync import RunReport, SyncBusy, Synchronizer
from database import transaction
from server.security.sessions import secret_key
from server.settings import Settings
from server.sources.service import record_run

log = logging.getLogger(__name__)
CHECK_EVERY_S = 30.0


def secret_box(settings: Settings, db: Engine | None = None) -> SecretBox:
    """What encrypts source credentials, with the instance's shared key."""
    return SecretBox(secret_key(settings, db))


def synchronizer(
    *,
    sessions: sessionmaker[Session],
    documents: DocumentLifecycle,
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    secrets: SecretBox | None = None,
) -> Synchronizer:
    """The synchroniser of this instance, with its limits and its secret box."""
    limits = Limits(
        max_bytes=settings.max_upload_bytes,
        max_pages=settings.sync_max_pages,
        max_depth=settings.sync_max_depth,
        delay_s=settings.sync_delay_s,
        private_networks=settings.sync_private_networks,
    )
    return Synchronizer(
        sessions=sessions,
        documents=documents,
        open_reader=reader_factory(
            limits=limits, secrets=secrets or secret_box(settings), transport=transport
        ),
        max_removal_ratio=settings.sync_max_removal_ratio,
    )


def run_and_record(
    sync: Synchronizer,
    sessions: sessionmaker[Session],
    source_id: int,
    *,
    trigger: str,
    progress: Progress | None = None,
) -> RunReport:
    """One run, written to the audit log; raises :class:`SyncBusy` when it is taken."""
    report = sync.run(source_id, trigger=trigger, progress=progress)
    with transaction(sessions) as session:
        record_run(session=session, report=report)
    return report


class SyncWorker:
    """A daemon thread running the due sources, one at a time, until stopped."""

    def __init__(
        self,
        sync: Synchronizer,
        sessions: sessionmaker[Session],
        *,
        enabled: bool = True,
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:
        self._sync = sync
        self._sessions = sessions
        self._enabled = enabled
        self._check_every_s = check_every_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="guichet-sync", daemon=True)

    def start(self) -> None:
        if self._enabled:
            self._thread.start()

    def wake(self) -> None:
        """Look for work now (a source was added or a run asked for)."""
        self._wake.set()

    def stop(self, timeout_s: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def run_due(self) -> int:
        """Run every source that is due and free; returns how many ran."""
        with transaction(self._sessions) as session:
            due = due_sources(session=session)
            requested = {
                source_id
                for source_id in due
                if (source := session.get(Source, source_id)) is not None and source.run_requested
            }
        ran = 0
        for source_id in due:
            if self._stop.is_set():
                break
            trigger = "request" if source_id in requested else "schedule"
            try:
                run_and_record(
                    self._sync, self._sessions, source_id, trigger=trigger, progress=self._check
                )
            except SyncBusy:
                continue
            ran += 1
        return ran

    def _check(self, phase: str, done: int, total: int | None) -> None:
        # Stop between two pages when the app stops; indexing, once started, finishes.
        if phase == "fetching" and self._stop.is_set():
            raise SourceFailure("interrupted")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                log.exception("sync loop error")
            self._wake.wait(self._check_every_s)
            self._wake.clear()
