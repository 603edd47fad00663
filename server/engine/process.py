"""The embedded inference engine: vLLM's CPU build run as a child process.

Guichet talks to every engine over the OpenAI-compatible HTTP API, so the embedded engine
is the same code path as production (vLLM on GPUs), just started by us. vLLM lives in its
own virtual environment (it pins torch, transformers and fastapi versions the app cannot
share), so this module never imports it: it only starts ``<engine python> -m
vllm.entrypoints.openai.api_server`` and watches it over HTTP. The model it serves is
prepared by server/engine/prepare.py.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import urlsplit

import httpx

from server.engine.children import (
    LOG_TAIL_LINES,
    die_with_parent,
    log_tail,
    port_answers,
    signal_group,
    wait_group_gone,
)
from server.engine.errors import EngineError

logger = logging.getLogger(__name__)

_POLL_INTERVAL_S = 1.0
# vLLM opens its port only once the model is loaded, so until then the log is the only sign
# of progress. Later stages first; a vLLM that words its log differently just shows
# "starting" until ready.
_LOG_PHASES = (
    ("Starting vLLM server", "opening API"),
    ("Loading weights took", "warming up"),
    ("Starting to load model", "loading weights"),
    ("non-default args", "configuring"),
)

# The engine's environment on top of the parent's. No hub access at run time, no usage
# statistics sent home, and unbuffered output so a crash's last lines reach the log.
_ENGINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB; plenty for a 135M model with 2048-token contexts
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "PYTHONUNBUFFERED": "1",
}
# Variables of the app's interpreter that must not leak into vLLM's: they would mix the two
# virtual environments' site-packages.
_ENV_DROPPED = ("PYTHONPATH", "PYTHONHOME")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def _http_client(base_url: str, timeout_s: float) -> httpx.Client:
    # A proxy configured for the outside world must not capture requests to 127.0.0.1.
    return httpx.Client(timeout=timeout_s, trust_env=not _is_loopback(base_url))


def _listed_models(client: httpx.Client, base_url: str, api_key: str | None) -> list[str]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = client.get(f"{base_url.rstrip('/')}/models", headers=headers)
    response.raise_for_status()
    return [str(item.get("id")) for item in response.json().get("data", [])]


def engine_health(base_url: str, *, timeout_s: float = 2.0, api_key: str | None = None) -> bool:
    """True when an OpenAI-compatible server at ``base_url`` lists at least one model.

    ``base_url`` ends in ``/v1``. Never raises: any failure reads as "not ready".
    """
    try:
        with _http_client(base_url, timeout_s) as client:
            return bool(_listed_models(client, base_url, api_key))
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


class EmbeddedEngine:
    """The vLLM CPU server as a child process of Guichet.

    ``start()`` launches it in its own process group with output going to ``log_path``;
    ``wait_ready()`` blocks until the served model is listed; ``stop()`` ends the whole
    group (vLLM forks an engine-core process). As a context manager, ``__enter__`` only
    starts it (the caller chooses how long to wait, and with which progress display) and
    ``__exit__`` stops it::

        with EmbeddedEngine(python=..., model_dir=..., served_model_name=..., port=8001) as e:
            e.wait_ready(timeout_s=900)
            ...  # talk to e.base_url

    An engine still running when the interpreter exits is stopped by an ``atexit`` hook.
    """

    def __init__(
        self,
        *,
        python: Path,
        model_dir: Path,
        served_model_name: str,
        port: int,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        extra_args: list[str] | None = None,
        max_model_len: int = 2048,
        die_with_parent: bool = False,
    ) -> None:
        self.python = Path(python)
        self.model_dir = Path(model_dir)
        self.served_model_name = served_model_name
        self.port = port
        self.host = host
        self.log_path = (
            Path(log_path)
            if log_path is not None
            else Path(tempfile.gettempdir()) / f"guichet-engine-{port}.log"
        )
        self.extra_env = dict(extra_env or {})
        self.extra_args = list(extra_args or [])
        self.max_model_len = max_model_len
        # For a long-lived owner (`guichet serve`, started from its main thread): the engine
        # gets SIGTERM if the owner dies, even by SIGKILL, instead of holding the port.
        self.die_with_parent = die_with_parent
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.started_at: float | None = None
        self.ready_after_s: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [
            str(self.python),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(self.model_dir),
            "--served-model-name",
            self.served_model_name,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--max-model-len",
            str(self.max_model_len),
            "--dtype",
            "bfloat16",
            # No torch.compile: start-up drops from ~130 s to ~36 s, same throughput on CPU.
            "-O0",
            # wait_ready polls every second; access lines would bury the useful log.
            "--disable-uvicorn-access-log",
            # Compact JSON under response_format: without it the small model pads JSON with
            # runs of newlines and can spend max_tokens on whitespace. xgrammar is what vLLM
            # picks by default; it is the one backend (with guidance) that honours this flag.
            "--structured-outputs-config",
            '{"backend": "xgrammar", "disable_any_whitespace": true}',
            *self.extra_args,
        ]

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _ENV_DROPPED}
        env.update(_ENGINE_ENV)
        env.update(self.extra_env)
        return env

    def _check_vllm_installed(self) -> None:
        if not (self.python.is_file() and os.access(self.python, os.X_OK)):
            raise EngineError(
                "vllm_missing",
                f"No Python interpreter at {self.python} for the vLLM engine.",
                detail="Create it with: scripts/install-vllm.sh .venv-vllm "
                "(or set GUICHET_ENGINE_PYTHON, or GUICHET_LLM_BASE_URL for an external engine)",
            )
        # find_spec answers in milliseconds; importing vllm would take seconds.
        probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"
        try:
            result = subprocess.run(
                [str(self.python), "-c", probe],
                env=self._environment(),
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError("vllm_missing", f"Could not run {self.python}: {exc}") from exc
        if result.returncode != 0:
            raise EngineError(
                "vllm_missing",
                f"vLLM is not installed in the environment of {self.python}.",
                detail="Install it with: scripts/install-vllm.sh .venv-vllm",
            )

    def start(self) -> None:
        """Launch the server and return at once; see :meth:`wait_ready`."""
        if self.poll() is None and self._process is not None:
            return  # already running
        self._check_vllm_installed()
        if not (self.model_dir / "config.json").is_file():
            raise EngineError(
                "not_prepared",
                f"No prepared model in {self.model_dir}.",
                detail="Run: guichet engine prepare",
            )
        if port_answers(self.host, self.port):
            raise EngineError(
                "port_in_use",
                f"Something already listens on {self.host}:{self.port}.",
                # An engine whose app was killed -9 outlives it (no parent-death signal: it
                # would also fire when the thread that started the engine ends).
                detail="Stop it, choose another GUICHET_ENGINE_PORT, or point "
                "GUICHET_LLM_BASE_URL at it if it is an engine. A leftover engine shows in: "
                f"pgrep -af 'vllm.entrypoints.openai.api_server.*--port {self.port}'",
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("wb")
        command = self.command()
        logger.info("starting engine: %s (log: %s)", " ".join(command), self.log_path)
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=self._environment(),
            # Own process group: stop() signals vLLM's engine-core children too, and a
            # Ctrl-C in the terminal reaches the app, which then stops the engine cleanly.
            start_new_session=True,
            preexec_fn=die_with_parent if self.die_with_parent else None,
        )
        self.started_at = time.monotonic()
        self.ready_after_s = None
        atexit.register(self.stop)

    def poll(self) -> int | None:
        """The exit code if the server has exited, else None (also None if never started)."""
        return self._process.poll() if self._process is not None else None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server's log."""
        return log_tail(self.log_path, lines)

    def wait_ready(
        self,
        *,
        timeout_s: float,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> None:
        """Block until the server lists the served model.

        ``on_progress(elapsed_s, phase)`` is called about once a second. Phases, read from
        the log until the port opens: ``starting`` (importing torch and vLLM),
        ``configuring``, ``loading weights``, ``warming up``, ``opening API``; then
        ``loading`` (HTTP up, model not listed yet) and ``ready`` (the last call). With -O0
        on 2 cores the whole sequence takes about 35 s. Raises ``EngineError("crashed")``
        with the log tail if the process exits, ``EngineError("timeout")`` (after stopping
        it) if ``timeout_s`` passes.
        """
        if self._process is None or self.started_at is None:
            raise EngineError("not_started", "wait_ready() called before start().")
        report = on_progress or (lambda elapsed, phase: None)
        started = self.started_at
        with _http_client(self.base_url, timeout_s=2.0) as client:
            while True:
                elapsed = time.monotonic() - started
                if self._process is None:
                    raise EngineError("stopped", "The engine was stopped while starting.")
                code = self.poll()
                if code is not None:
                    raise EngineError(
                        "crashed",
                        f"The engine exited with code {code} after {elapsed:.0f} s "
                        f"(log: {self.log_path}).",
                        detail=self.log_tail(),
                    )
                phase = self._phase(client)
                if phase == "ready":
                    self.ready_after_s = elapsed
                    logger.info("engine ready after %.1f s at %s", elapsed, self.base_url)
                    report(elapsed, phase)
                    return
                report(elapsed, phase)
                if elapsed > timeout_s:
                    tail = self.log_tail()
                    self.stop()
                    raise EngineError(
                        "timeout",
                        f"The engine was not ready after {timeout_s:.0f} s; stopped it "
                        f"(log: {self.log_path}).",
                        detail=tail,
                    )
                time.sleep(_POLL_INTERVAL_S)

    def _phase(self, client: httpx.Client) -> str:
        root = self.base_url.removesuffix("/v1")
        try:
            if client.get(f"{root}/health").status_code != 200:
                return "loading"
            models = _listed_models(client, self.base_url, api_key=None)
        except httpx.ConnectError:
            return self._log_phase()
        except (httpx.HTTPError, ValueError, AttributeError):
            return "loading"
        return "ready" if self.served_model_name in models else "loading"

    def _log_phase(self) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(max(0, self.log_path.stat().st_size - 65536))
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return "starting"
        return next((phase for marker, phase in _LOG_PHASES if marker in text), "starting")

    def stop(self, timeout_s: float = 20) -> None:
        """End the server and its children: SIGTERM, then SIGKILL. Idempotent."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None:
            pgid = process.pid  # leader of its own session, so pgid == pid
            if process.poll() is None:
                logger.info("stopping engine (pid %s)", pgid)
                # SIGTERM to the API server only: it shuts its engine-core and worker down in
                # order. Signalling the whole group at once makes them race and leak shared
                # memory segments.
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout_s)
                    # Let its multiprocessing resource tracker finish unlinking shared memory.
                    wait_group_gone(pgid, timeout_s=2.0)
                except subprocess.TimeoutExpired:
                    logger.warning("engine ignored SIGTERM for %.0f s; killing it", timeout_s)
            # Whatever is left in the group (a hung worker, orphans of a crash) dies now.
            signal_group(pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> EmbeddedEngine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
