"""Writes in progress, and what garbage collection may therefore remove.

A writer records (host, pid, start time) for each document version before writing its
chunks, and the row goes when the version is activated or abandoned. Garbage collection
removes chunks of versions that are neither active nor pending. A pending row is presumed
dead when:

- it is this very process's and no write of it is running here any more;
- it is another process's on this host and that pid is gone;
- it is older than ``PENDING_EXPIRY_S``, whoever wrote it: the only rule that can free the
  row of a process on *another host*, whose pid cannot be probed from here.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from retrieval.catalog_tables import active, chunks
from retrieval.catalog_tables import pending as pending_table

# A writer that has not finished after this long is presumed dead even if its pid is
# alive (pids are recycled) or lives on another host.
PENDING_EXPIRY_S = 6 * 3600
# Rows per statement where a list of ids becomes bound parameters (SQLite's limit).
BATCH = 500

# Writes in progress in this process, by (catalog, corpus, document, version): a pending
# row with our own host and pid is alive only while its write is still running here.
_INFLIGHT: set[tuple[str, str, str, int]] = set()
_INFLIGHT_LOCK = threading.Lock()


@dataclass(frozen=True)
class StaleVersion:
    """Chunks of a document version that is neither active nor being written."""

    corpus: str
    document_id: str
    version: int
    chunk_ids: list[str]


def parts(values: Sequence[str]) -> Iterable[list[str]]:
    """``values`` in slices small enough to bind as parameters."""
    for start in range(0, len(values), BATCH):
        yield list(values[start : start + BATCH])


def end_pending(conn: Connection, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
    """Delete the pending rows of these versions (in the caller's transaction)."""
    for document_id, version in versions:
        conn.execute(
            delete(pending_table).where(
                pending_table.c.corpus == corpus,
                pending_table.c.document_id == document_id,
                pending_table.c.version == version,
            )
        )


class PendingWrites:
    """The pending-write rows of one catalog and the garbage they let through."""

    def __init__(
        self,
        *,
        key: str,
        transaction: Callable[[], AbstractContextManager[Connection]],
        insert: Callable[[Any], Any],
    ) -> None:
        self._key = key
        self._transaction = transaction
        self._insert = insert

    def begin(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        """Record that this process is about to write these (document, version) pairs."""
        versions = list(versions)
        host, pid, now = socket.gethostname(), os.getpid(), time.time()
        with _INFLIGHT_LOCK:
            _INFLIGHT.update((self._key, corpus, d, v) for d, v in versions)
        if not versions:
            return
        insert = self._insert(pending_table)
        statement = insert.on_conflict_do_update(
            index_elements=[
                pending_table.c.corpus,
                pending_table.c.document_id,
                pending_table.c.version,
            ],
            set_={"host": host, "pid": pid, "started": now},
        )
        rows = [
            {"corpus": corpus, "document_id": d, "version": v, "host": host, "pid": pid}
            for d, v in versions
        ]
        with self._transaction() as conn:
            conn.execute(statement, [{**row, "started": now} for row in rows])

    def forget_inflight(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        """This process no longer writes these versions (finished, failed or abandoned)."""
        with _INFLIGHT_LOCK:
            _INFLIGHT.difference_update((self._key, corpus, d, v) for d, v in versions)

    def end(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        """Forget the pending rows of these versions."""
        with self._transaction() as conn:
            end_pending(conn, corpus, versions)

    def stale_versions(
        self, corpus: str | None = None, document_ids: Sequence[str] | None = None
    ) -> list[StaleVersion]:
        """Versions whose chunks can go: not active, and not being written by a live process."""
        with self._transaction() as conn:
            self._expire(conn)
            query = (
                select(chunks.c.corpus, chunks.c.document_id, chunks.c.version, chunks.c.chunk_id)
                .outerjoin(
                    active,
                    (active.c.corpus == chunks.c.corpus)
                    & (active.c.document_id == chunks.c.document_id),
                )
                .outerjoin(
                    pending_table,
                    (pending_table.c.corpus == chunks.c.corpus)
                    & (pending_table.c.document_id == chunks.c.document_id)
                    & (pending_table.c.version == chunks.c.version),
                )
                .where(
                    active.c.version.is_(None) | (active.c.version != chunks.c.version),
                    pending_table.c.version.is_(None),
                )
                .order_by(chunks.c.id)
            )
            if corpus is not None:
                query = query.where(chunks.c.corpus == corpus)
            rows: list[Any] = []
            if corpus is not None and document_ids is not None:
                for part in parts(document_ids):
                    rows += conn.execute(query.where(chunks.c.document_id.in_(part))).all()
            else:
                rows = list(conn.execute(query).all())
        grouped: dict[tuple[str, str, int], list[str]] = {}
        for c, d, v, chunk in rows:
            grouped.setdefault((c, d, int(v)), []).append(chunk)
        return [StaleVersion(c, d, v, ids) for (c, d, v), ids in grouped.items()]

    def _expire(self, conn: Connection) -> None:
        host, now = socket.gethostname(), time.time()
        rows = conn.execute(
            select(
                pending_table.c.corpus,
                pending_table.c.document_id,
                pending_table.c.version,
                pending_table.c.host,
                pending_table.c.pid,
                pending_table.c.started,
            )
        ).all()
        for corpus, document_id, version, row_host, pid, started in rows:
            if row_host == host and int(pid) == os.getpid():
                with _INFLIGHT_LOCK:
                    dead = (self._key, corpus, document_id, int(version)) not in _INFLIGHT
            else:
                dead = now - float(started) > PENDING_EXPIRY_S or (
                    row_host == host and not _pid_alive(int(pid))
                )
            if dead:
                end_pending(conn, corpus, [(document_id, int(version))])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
