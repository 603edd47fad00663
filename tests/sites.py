"""Real servers the sync tests read from, on 127.0.0.1: a small static website and a
WebDAV share (WsgiDAV, in its own process).

The website serves the files of a folder, as any static web server does (``Last-Modified``
and ``If-Modified-Since`` included, from Python's ``http.server``), plus the few answers a
folder cannot give: a server error, a redirect to another site, a page that needs a
sign-in. It records every request, so tests can say what was (not) fetched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from server.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler(SimpleHTTPRequestHandler):
    site: StaticSite

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        special = self.site.special.get(path)
        if special is None:
            super().do_GET()
        else:
            status, headers, body = special
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.site.requests.append((self.path, code, dict(self.headers)))
        super().send_response(code, message)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


class StaticSite:
    """A static website over a folder, in a thread; ``requests`` lists (path, status,
    request headers) of every answer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, int, dict[str, str]]] = []
        self.special: dict[str, tuple[int, dict[str, str], bytes]] = {}
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def write(self, path: str, text: str, *, mtime: float | None = None) -> Path:
        """Write a file of the site; ``mtime`` (default: now + a few seconds past any
        earlier one) so that ``If-Modified-Since``, to the second, sees the change."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        before = target.stat().st_mtime if target.exists() else 0.0
        target.write_text(text, encoding="utf-8")
        stamp = mtime if mtime is not None else max(time.time(), before + 2)
        os.utime(target, (stamp, stamp))
        return target

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def answered(self, path: str) -> list[int]:
        return [status for requested, status, _ in self.requests if requested == path]


def page(title: str, body: str, links: tuple[str, ...] = ()) -> str:
    """A page as a town hall's site has them: navigation, main content, footer."""
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        "<!doctype html><html lang=fr><head><meta charset=utf-8>"
        f"<title>{title} — Mairie de Val-d'Orme</title></head><body>"
        f"<header><nav><ul><li><a href='/'>Accueil</a></li>{nav}</ul></nav></header>"
        f"<main><h1>{title}</h1>{body}</main>"
        "<footer><p>Mairie de Val-d'Orme — mentions légales — plan du site</p></footer>"
        "</body></html>"
    )


class WebDavServer:
    """WsgiDAV (on cheroot) serving ``root`` at ``/dav/``, with one account."""

    def __init__(self, root: Path, *, user: str = "agent", password: str = "s3cret!") -> None:
        self.root = root
        self.user = user
        self.password = password
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/dav/"
        self.config = root.parent / f"wsgidav-{self.port}.yaml"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WebDavServer:
        self.config.write_text(
            f"""host: 127.0.0.1
port: {self.port}
verbose: 1
logging:
  enable_loggers: []
provider_mapping:
  "/dav": "{self.root}"
http_authenticator:
  accept_basic: true
  accept_digest: false
  default_to_digest: false
  domain_controller: null
simple_dc:
  user_mapping:
    "*":
      "{self.user}":
        password: "{self.password}"
dir_browser:
  enable: false
""",
            encoding="utf-8",
        )
        wsgidav = Path(sys.executable).parent / "wsgidav"
        self.process = subprocess.Popen(
            [str(wsgidav), f"--config={self.config}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("WsgiDAV did not start") from None
                time.sleep(0.1)
        raise RuntimeError("WsgiDAV did not start in time")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
