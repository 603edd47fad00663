"""What every kind of source reader hands the synchronisation: one outcome per page or file.

A reader walks its source and, for each item (a page URL, a file path), yields exactly one
of :class:`Fetched` (new or changed bytes), :class:`Unchanged` (the validators or the hash
say so: nothing to do), :class:`Failed` (this item only: kept as it was) or :class:`Gone`
(the source says it no longer exists). A source that cannot be read at all raises
:class:`SourceFailure`, and then nothing is removed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

# Kinds of files a folder or a share may hold that Guichet can read (as uploads accept).
READABLE_SUFFIXES = (".pdf", ".docx", ".odt", ".html", ".htm", ".md", ".markdown", ".txt")
USER_AGENT = "Guichet-sync/0.1 (+https://guichet.example/sync)"


class SourceFailure(Exception):
    """The whole source could not be read (``code``: unreachable, auth_failed, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


class ItemFailure(Exception):
    """One page or file could not be read; the others go on."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Known:
    """What the last run kept of an item: its HTTP validators and the hash of its bytes."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fetched:
    """New or changed content: ``data`` is what the document lifecycle receives."""

    key: str
    filename: str
    data: bytes
    sha256: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Same-site links of a page, kept so that a later "304 Not Modified" still leads on.
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unchanged:
    key: str
    etag: str | None = None
    last_modified: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failed:
    key: str
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Gone:
    key: str


Outcome = Fetched | Unchanged | Failed | Gone


@dataclass(frozen=True)
class Limits:
    """How far and how fast a reader may go."""

    max_bytes: int
    max_pages: int = 500
    max_depth: int = 5
    delay_s: float = 1.0
    private_networks: bool = False
    timeout_s: float = 20.0


class Reader(Protocol):
    """A source as the synchronisation sees it."""

    total: int | None
    """How many items the walk will yield, once known (None: a crawl, unknown)."""

    def walk(self, known: Mapping[str, Known]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


Progress = Callable[[str, int, int | None], None]
"""Called with (phase, done, total or None) while a run goes."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_address(url: str, *, private_networks: bool) -> None:
    """Refuse hosts that resolve to this machine or a private network, unless allowed:
    an owner must not make the server fetch its own engine or a cloud metadata service."""
    host = urlsplit(url).hostname
    if not host:
        raise SourceFailure("invalid_location", url)
    if private_networks:
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise SourceFailure("unreachable", f"{host}: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise SourceFailure("private_address", host)


_UNSAFE = re.compile(r"[^\w.\- ›]+", re.UNICODE)


def filename_for(path: str, *, suffix: str | None = None) -> str:
    """A readable document file name for a relative path or URL path: ``demarches ›
    passeport.html``; ``suffix`` replaces the extension (pages become ``.html``)."""
    parts = [p for p in path.strip("/").split("/") if p] or ["index"]
    parts = [_UNSAFE.sub("-", p).strip("-. ") or "-" for p in parts]
    name = " › ".join(parts)
    if suffix is not None:
        stem, dot, ext = parts[-1].rpartition(".")
        if dot and f".{ext.lower()}" in (".html", ".htm", ".php", ".asp", ".aspx", ".jsp"):
            name = name[: len(name) - len(ext) - 1]
        name += suffix
    if len(name) > 180:
        name = "… " + name[-178:]
    return name
