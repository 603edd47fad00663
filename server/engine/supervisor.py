"""Keeping the embedded engine up: a crashed engine is restarted with back-off, and what the
supervisor knows is written to a small status file that ``/readyz`` reads in every worker.

The supervisor owns the engine from then on: it is the only one that starts it again, and
:meth:`EngineSupervisor.stop` (idempotent, safe from any thread) ends the engine's whole
process group, so that every exit path of ``guichet serve`` can call it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from server.engine.errors import EngineError
from server.engine.process import EmbeddedEngine

log = logging.getLogger("guichet.engine")

STATUS_FILE = "engine-status.json"


@dataclass
class EngineStatus:
    """What ``/readyz`` says about the embedded engine.

    ``state`` is ``running``, ``restarting`` (crashed, a new start is planned or under
    way) or ``stopped``; ``restarts`` counts the restarts since ``guichet serve`` began.
    """

    base_url: str
    state: str
    restarts: int = 0
    pid: int | None = None
    last_exit_code: int | None = None
    next_attempt_in_s: float | None = None


def status_path(data_dir: Path) -> Path:
    return data_dir / STATUS_FILE


def read_status(data_dir: Path, *, base_url: str) -> EngineStatus | None:
    """The supervisor's last word about the engine at ``base_url``, if it supervises it."""
    try:
        recorded = json.loads(status_path(data_dir).read_text(encoding="utf-8"))
        status = EngineStatus(**recorded)
    except (OSError, ValueError, TypeError):
        return None
    return status if status.base_url == base_url else None


class EngineSupervisor:
    """Watches ``engine`` (already started) and restarts it when it exits on its own.

    Back-off: the first restart waits ``backoff_s``; each failed start, or a crash less
    than ``stable_s`` after the last one became ready, doubles the wait, up to
    ``max_backoff_s``. A crash after a long healthy run starts again from ``backoff_s``.
    """

    def __init__(
        self,
        engine: EmbeddedEngine,
        *,
        data_dir: Path,
        start_timeout_s: float,
        backoff_s: float = 2.0,
        max_backoff_s: float = 120.0,
        stable_s: float = 300.0,
        poll_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.start_timeout_s = start_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.stable_s = stable_s
        self.poll_s = poll_s
        self._path = status_path(data_dir)
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # engine.start() and engine.stop() never overlap
        self._thread: threading.Thread | None = None
        self._ready_at = time.monotonic()
        self.status = EngineStatus(base_url=engine.base_url, state="running", pid=engine.pid)

    def start(self) -> None:
        """Begin watching, in a thread that lives as long as the supervision.

        Restarts happen in that thread, so the engine's parent-death signal (tied to the
        thread that started it) still fires only when supervision ends.
        """
        self._write()
        self._thread = threading.Thread(target=self._run, name="engine-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End supervision and the engine's whole process group. Idempotent."""
        if self._stopping.is_set() and self.status.state == "stopped":
            return
        self._stopping.set()
        with self._lock:
            self.engine.stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.status.state, self.status.pid = "stopped", None
        with contextlib.suppress(OSError):
            self._path.unlink()

    # -- the watching thread ---------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.backoff_s
        while not self._stopping.wait(self.poll_s):
            code = self.engine.poll()
            if code is None:
                continue
            crashed_after = time.monotonic() - self._ready_at
            if crashed_after > self.stable_s:
                backoff = self.backoff_s
            log.error(
                "the embedded engine exited with code %s after %.0f s; answers are queued for "
                "agents, restarting it. Last lines of its log:\n%s",
                code,
                crashed_after,
                self.engine.log_tail(),
            )
            with self._lock:
                # Its engine-core and workers would live on as orphans holding gigabytes.
                self.engine.stop()
            self.status.last_exit_code = code
            backoff = self._restart(backoff)

    def _restart(self, backoff: float) -> float:
        """Start the engine again until it is ready or supervision ends; the next back-off."""
        while not self._stopping.is_set():
            self._set(state="restarting", pid=None, next_attempt_in_s=backoff)
            log.warning("restarting the embedded engine in %.0f s", backoff)
            if self._stopping.wait(backoff):
                return backoff
            backoff = min(backoff * 2, self.max_backoff_s)
            try:
                with self._lock:
                    if self._stopping.is_set():
                        return backoff
                    self.engine.start()
                self._set(next_attempt_in_s=None, pid=self.engine.pid)
                self.engine.wait_ready(timeout_s=self.start_timeout_s)
            except EngineError as error:
                log.error("the embedded engine did not come back: %s", error)
                with self._lock:
                    self.engine.stop()
                continue
            self._ready_at = time.monotonic()
            self.status.restarts += 1
            self._set(state="running", pid=self.engine.pid)
            log.warning(
                "the embedded engine is back (restart %d, ready after %.0f s)",
                self.status.restarts,
                self.engine.ready_after_s or 0,
            )
            return backoff
        return backoff

    def _set(self, **changes: object) -> None:
        for name, value in changes.items():
            setattr(self.status, name, value)
        self._write()

    def _write(self) -> None:
        """Replace the status file atomically (workers read it at any moment)."""
        if self._stopping.is_set() and self.status.state == "stopped":
            return
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}")
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(asdict(self.status)), encoding="utf-8")
            temporary.replace(self._path)
