"""Where a corpus's documents already live, and what each synchronisation run found.

A :class:`Source` belongs to one corpus; the documents it brought in are tied to it by
:class:`SourceItem` rows (one per page or file, with the validators and content hash of
what was last fetched). Documents uploaded by hand have no such row: no sync touches them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from corpora.models import Corpus
from database import Base, UTCDateTime, utcnow


class SourceKind(enum.StrEnum):
    website = "website"
    folder = "folder"
    webdav = "webdav"


class RunStatus(enum.StrEnum):
    """How a run ended: ``held`` means removals wait for an owner's confirmation."""

    running = "running"
    done = "done"
    held = "held"
    failed = "failed"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Source(Base):
    """A website, a folder on the server or a WebDAV share kept in sync with a corpus."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    # The start URL or sitemap, the folder path, or the WebDAV folder URL.
    location: Mapped[str] = mapped_column(String(1000))
    # Crawl limits of a website: max_pages, max_depth, delay_s.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    username: Mapped[str | None] = mapped_column(String(200), default=None)
    # The WebDAV password, encrypted (corpora/sources/secrets.py); never stored in clear.
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    every_s: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Asked for a run now (the API, the page), taken by the first free worker.
    run_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # An owner confirmed the removals a held run found: the next run may remove them.
    removals_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who runs it now: one run per source at a time, across processes and hosts.
    lease_owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    corpus: Mapped[Corpus] = relationship()


class SourceItem(Base):
    """One page or file a source brought in, and what was last fetched of it."""

    __tablename__ = "source_items"
    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # The page URL, or the file's path relative to the folder or share.
    key: Mapped[str] = mapped_column(String(1000))
    etag: Mapped[str | None] = mapped_column(String(300), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    # SHA-256 of the bytes last fetched (None: fetch again next time, e.g. indexing failed).
    fetched_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # A page's same-site links, so that a "304 Not Modified" page still leads the crawl on.
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceRun(Base):
    """One synchronisation of a source: when, how long, and what changed or failed."""

    __tablename__ = "source_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # schedule, request, cli
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"item": key, "code": ..., "detail": ...}] for each page or file that failed.
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Keys a held run would have removed, for the owner to see before confirming.
    held_removals: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why the whole run failed (unreachable, auth_failed, ...): nothing was removed.
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
