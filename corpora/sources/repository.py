"""Queries about sources: adding one (checked), listing, removing, runs, and the lease that
keeps one run per source at a time across processes and hosts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from corpora.models import Corpus
from corpora.repository import CorpusError
from corpora.sources.models import Source, SourceItem, SourceKind, SourceRun
from database import utcnow

MIN_EVERY_S = 60
_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|min|m|h|d|j|w)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "j": 86400, "w": 604800}
# Bounds of a website's crawl options: (smallest, largest).
OPTION_BOUNDS: dict[str, tuple[float, float]] = {
    "max_pages": (1, 100_000),
    "max_depth": (0, 50),
    "delay_s": (0, 60),
}


class SourceError(CorpusError):
    """A source request that cannot be honoured; ``code`` names why."""


def parse_every(text: str) -> int:
    """Seconds of an interval such as ``30m``, ``6h``, ``1d`` (``j`` too), or plain minutes."""
    match = _DURATION.match(text or "")
    if match is None:
        raise SourceError("invalid_interval", value=text)
    seconds = int(match.group(1)) * _UNITS[(match.group(2) or "min").lower()]
    if seconds < MIN_EVERY_S:
        raise SourceError("invalid_interval", value=text)
    return seconds


def checked_location(kind: SourceKind, location: str, *, folder_roots: list[Path] | None) -> str:
    """The location, tidied, when it suits ``kind``; ``folder_roots`` None (the shell)
    allows any folder, a list (the API, the page) only folders inside one of them."""
    location = location.strip()
    if kind is SourceKind.folder:
        path = Path(location)
        if not path.is_absolute():
            raise SourceError("invalid_location", location=location)
        resolved = path.resolve()
        if folder_roots is not None and not any(
            resolved.is_relative_to(root.resolve()) for root in folder_roots
        ):
            raise SourceError("folder_not_allowed", location=location)
        return str(resolved)
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise SourceError("invalid_location", location=location)
    return parts._replace(fragment="").geturl()


def add_source(
    *,
    session: Session,
    corpus: Corpus,
    kind: SourceKind,
    location: str,
    every_s: int,
    options: dict[str, Any] | None = None,
    username: str | None = None,
    sealed_password: str | None = None,
    created_by: int | None = None,
    folder_roots: list[Path] | None = None,
) -> Source:
    """A new source of ``corpus``, due at once (its first run is its initial import)."""
    location = checked_location(kind, location, folder_roots=folder_roots)
    if every_s < MIN_EVERY_S:
        raise SourceError("invalid_interval", value=str(every_s))
    if (username or sealed_password) and kind is not SourceKind.webdav:
        raise SourceError("credentials_not_used")
    clean: dict[str, Any] = {}
    for name, value in (options or {}).items():
        if value is None:
            continue
        low, high = OPTION_BOUNDS[name]
        if not low <= value <= high:
            raise SourceError("invalid_option", option=name, low=low, high=high)
        clean[name] = value
    duplicate = session.scalar(
        select(Source.id).where(
            Source.corpus_id == corpus.id, Source.kind == kind, Source.location == location
        )
    )
    if duplicate is not None:
        raise SourceError("source_exists", location=location)
    source = Source(
        corpus_id=corpus.id,
        kind=kind,
        location=location,
        options=clean,
        username=username or None,
        secret=sealed_password,
        every_s=every_s,
        next_run_at=utcnow(),
        created_by=created_by,
    )
    session.add(source)
    session.flush()
    return source


def get_source(*, session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceError("unknown_source", source=source_id)
    return source


def sources_of(*, session: Session, corpus: Corpus) -> list[Source]:
    return list(
        session.scalars(select(Source).where(Source.corpus_id == corpus.id).order_by(Source.id))
    )


def all_sources(*, session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.id)))


def remove_source(*, session: Session, source: Source) -> int:
    """Forget a source; the documents it brought in stay, as if uploaded by hand (an owner
    deletes them if they should go). Returns how many documents it had."""
    count = len(
        session.scalars(select(SourceItem.id).where(SourceItem.source_id == source.id)).all()
    )
    session.execute(delete(SourceItem).where(SourceItem.source_id == source.id))
    session.execute(delete(SourceRun).where(SourceRun.source_id == source.id))
    session.delete(source)
    session.flush()
    return count


def last_run(*, session: Session, source: Source) -> SourceRun | None:
    return session.scalar(
        select(SourceRun)
        .where(SourceRun.source_id == source.id)
        .order_by(SourceRun.id.desc())
        .limit(1)
    )


def item_count(*, session: Session, source: Source) -> int:
    return len(
        session.scalars(select(SourceItem.id).where(SourceItem.source_id == source.id)).all()
    )


def request_run(*, session: Session, source: Source, confirm_removals: bool = False) -> None:
    """Ask for a run as soon as a worker is free (an owner's "sync now")."""
    source.run_requested = True
    if confirm_removals:
        source.removals_confirmed = True
    session.flush()


def due_sources(*, session: Session, now: datetime | None = None) -> list[int]:
    """Sources whose time has come or that were asked for, and that nobody runs now."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(Source.id)
            .where(
                or_(Source.run_requested.is_(True), Source.next_run_at <= now),
                or_(Source.lease_until.is_(None), Source.lease_until < now),
            )
            .order_by(Source.run_requested.desc(), Source.next_run_at)
        )
    )


# -- the lease -----------------------------------------------------------------------------


def take_lease(*, session: Session, source_id: int, owner: str, ttl: timedelta) -> bool:
    """Take the source for ``ttl`` unless another holds it: one conditional UPDATE, atomic
    on SQLite and PostgreSQL alike, so two workers (or hosts) never both win."""
    now = utcnow()
    result = session.execute(
        update(Source)
        .where(
            Source.id == source_id,
            or_(Source.lease_until.is_(None), Source.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=now + ttl)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def renew_lease(*, session: Session, source_id: int, owner: str, ttl: timedelta) -> bool:
    result = session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lease_owner == owner)
        .values(lease_until=utcnow() + ttl)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def release_lease(*, session: Session, source_id: int, owner: str) -> None:
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
