"""The reader of each kind of source, built from its row with this instance's limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx

from corpora.sources.fetching import Limits, Reader
from corpora.sources.folder import FolderReader
from corpora.sources.models import Source, SourceKind
from corpora.sources.secrets import SecretBox
from corpora.sources.webdav import WebDavReader
from corpora.sources.website import WebsiteReader


def reader_factory(
    *, limits: Limits, secrets: SecretBox, transport: httpx.BaseTransport | None = None
) -> Callable[[Source], Reader]:
    """``open_reader(source)``: ``limits`` are the instance's defaults, which a website's
    own options (max_pages, max_depth, delay_s) override."""

    def open_reader(source: Source) -> Reader:
        if source.kind is SourceKind.folder:
            return FolderReader(source.location, limits)
        if source.kind is SourceKind.webdav:
            password = secrets.open(source.secret) if source.secret else None
            return WebDavReader(
                source.location,
                limits,
                username=source.username,
                password=password,
                transport=transport,
            )
        options = source.options or {}
        own = replace(
            limits,
            max_pages=int(options.get("max_pages", limits.max_pages)),
            max_depth=int(options.get("max_depth", limits.max_depth)),
            delay_s=float(options.get("delay_s", limits.delay_s)),
        )
        return WebsiteReader(source.location, own, transport=transport)

    return open_reader
