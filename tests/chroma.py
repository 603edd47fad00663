"""A throw-away Chroma server for the test session (`chroma run`, loopback only)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.postgres import free_port


def chroma_command() -> str | None:
    """The `chroma` command installed with the chromadb package, beside this Python."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


class ChromaServer:
    """`chroma run` on a free port over a temp folder; each app instance gets a database."""

    def __init__(self) -> None:
        command = chroma_command()
        if command is None:
            raise RuntimeError("the chroma command is missing (make install installs chromadb)")
        self.command = command
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="guichet-chroma-"))
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        with (self.dir / "server.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self.command,
                    "run",
                    "--path",
                    str(self.dir / "data"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    log_text = (self.dir / "server.log").read_text(errors="replace")
                    self.stop()
                    raise RuntimeError(f"the Chroma server did not start:\n{log_text}") from None
                time.sleep(0.2)

    def new_database(self) -> str:
        """A database name no other instance of the session uses (the app creates it)."""
        return "t-" + uuid.uuid4().hex[:12]

    def stop(self) -> None:
        try:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=30)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
