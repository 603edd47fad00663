"""Background indexing of uploaded documents, inside each app process.

Versions are claimed in the database, so several app workers can run this loop
side by side without indexing the same version twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from corpora.lifecycle import DocumentLifecycle

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # for a holder on another machine
RECOVER_EVERY_S = 30.0


class IndexingWorker:
    """A daemon thread that indexes queued versions until stopped."""

    def __init__(self, documents: DocumentLifecycle, *, idle_wait_s: float = 1.0) -> None:
        self._documents = documents
        self._idle_wait_s = idle_wait_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="guichet-indexing", daemon=True)

    def start(self) -> None:
        # Versions a killed process left half-indexed are taken up again, at once when it
        # ran on this machine (a killed `guichet ingest` or app).
        self._documents.requeue_stale(older_than=STALE_CLAIM)
        self._thread.start()

    def wake(self) -> None:
        """Called after an upload so that indexing starts at once."""
        self._wake.set()

    def stop(self, timeout_s: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        last_recovery = time.monotonic()
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_recovery > RECOVER_EVERY_S:
                    # A `guichet ingest` killed while the app runs leaves work behind too.
                    last_recovery = time.monotonic()
                    self._documents.requeue_stale(older_than=STALE_CLAIM)
                version_id = self._documents.claim_next()
                if version_id is not None:
                    self._documents.process(version_id)
                    continue
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                log.exception("indexing loop error")
            self._wake.wait(self._idle_wait_s)
            self._wake.clear()
