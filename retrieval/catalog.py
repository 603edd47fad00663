"""The catalog: which chunks exist, which version of each document is live.

A SQLite database under the index root, shared by every process that opens the same
root (WAL mode, one connection per thread). It is the source of truth for:

- chunk rows (text, metadata and analysed terms, so the lexical index can be rebuilt
  without re-analysing text);
- the *active version* of each document: search only ever returns chunks of the active
  version, so switching a document to a new version is one SQLite transaction;
- a per-corpus *generation* counter, bumped by every switch, that lets other processes
  notice cheaply that their in-memory lexical index is stale;
- *pending* writes (who is writing which version), so that garbage collection never
  removes the chunks of a write still running in another live process.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from retrieval.types import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    corpus TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    text TEXT NOT NULL,
    body_terms TEXT NOT NULL,
    head_terms TEXT NOT NULL,
    PRIMARY KEY (corpus, chunk_id)
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (corpus, document_id, version, ordinal);
CREATE TABLE IF NOT EXISTS active (
    corpus TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (corpus, document_id)
);
CREATE TABLE IF NOT EXISTS generations (
    corpus TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    corpus TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    PRIMARY KEY (corpus, document_id, version)
);
"""

_CHUNK_COLUMNS = "chunk_id, document_id, version, ordinal, title, section, page, text"
# A writer that has not finished after this long is presumed dead even if its pid is
# alive (pids are recycled; the host may be another machine sharing the folder).
PENDING_EXPIRY_S = 6 * 3600

# Writes in progress in this process, by (catalog path, corpus, document, version): a
# pending row with our own pid is alive only while its write is still running here.
_INFLIGHT: set[tuple[str, str, str, int]] = set()
_INFLIGHT_LOCK = threading.Lock()


@dataclass(frozen=True)
class LexicalRows:
    """Analysed terms of all active chunks of a corpus, read in one snapshot."""

    generation: int
    chunk_ids: list[str]
    document_ids: list[str]
    body_terms: list[str]
    head_terms: list[str]
    active: dict[str, int]


@dataclass(frozen=True)
class StaleVersion:
    """Chunks of a document version that is neither active nor being written."""

    corpus: str
    document_id: str
    version: int
    chunk_ids: list[str]


def _row_to_chunk(row: Sequence[object]) -> Chunk:
    chunk_id, document_id, version, ordinal, title, section, page, text = row
    return Chunk(
        chunk_id=str(chunk_id),
        document_id=str(document_id),
        version=int(str(version)),
        ordinal=int(str(ordinal)),
        title=str(title),
        section=str(section),
        page=None if page is None else int(str(page)),
        text=str(text),
    )


class Catalog:
    """SQLite store of chunks, active versions, generations and pending writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # executescript commits on its own; the statements are idempotent.
        self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        # IMMEDIATE takes the write lock up front so that two writers queue instead of
        # failing on lock upgrade; readers get a consistent snapshot with DEFERRED.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- reads -----------------------------------------------------------------------

    def generation(self, corpus: str) -> int:
        row = (
            self._connection()
            .execute("SELECT generation FROM generations WHERE corpus = ?", (corpus,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def vector_epoch(self) -> int:
        """Counter bumped by every write to embedded Chroma (see ``vectors.VectorStore``)."""
        row = (
            self._connection()
            .execute("SELECT value FROM counters WHERE name = 'vector_epoch'")
            .fetchone()
        )
        return int(row[0]) if row else 0

    def bump_vector_epoch(self) -> int:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO counters VALUES ('vector_epoch', 1) ON CONFLICT(name) "
                "DO UPDATE SET value = value + 1"
            )
            row = conn.execute("SELECT value FROM counters WHERE name = 'vector_epoch'").fetchone()
        return int(row[0])

    def active_versions(self, corpus: str) -> dict[str, int]:
        rows = self._connection().execute(
            "SELECT document_id, version FROM active WHERE corpus = ?", (corpus,)
        )
        return {str(d): int(v) for d, v in rows}

    def active_versions_of(self, corpus: str, document_ids: Sequence[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        for start in range(0, len(document_ids), 500):
            part = list(document_ids[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = self._connection().execute(
                f"SELECT document_id, version FROM active WHERE corpus = ? "
                f"AND document_id IN ({marks})",
                (corpus, *part),
            )
            result.update({str(d): int(v) for d, v in rows})
        return result

    def chunk_ids_of(self, corpus: str, document_id: str, version: int) -> list[str]:
        rows = self._connection().execute(
            "SELECT chunk_id FROM chunks WHERE corpus = ? AND document_id = ? AND version = ?",
            (corpus, document_id, version),
        )
        return [str(r[0]) for r in rows]

    def lexical_rows(self, corpus: str) -> LexicalRows:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT generation FROM generations WHERE corpus = ?", (corpus,)
            ).fetchone()
            rows = conn.execute(
                "SELECT c.chunk_id, c.document_id, c.body_terms, c.head_terms FROM chunks c "
                "JOIN active a ON a.corpus = c.corpus AND a.document_id = c.document_id "
                "AND a.version = c.version WHERE c.corpus = ? ORDER BY c.rowid",
                (corpus,),
            ).fetchall()
            active = {
                str(d): int(v)
                for d, v in conn.execute(
                    "SELECT document_id, version FROM active WHERE corpus = ?", (corpus,)
                )
            }
        return LexicalRows(
            generation=int(row[0]) if row else 0,
            chunk_ids=[r[0] for r in rows],
            document_ids=[r[1] for r in rows],
            body_terms=[r[2] for r in rows],
            head_terms=[r[3] for r in rows],
            active=active,
        )

    def chunks_by_id(self, corpus: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Active chunks among ``chunk_ids``."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._connection().execute(
            f"SELECT {', '.join('c.' + c for c in _CHUNK_COLUMNS.split(', '))} FROM chunks c "
            "JOIN active a ON a.corpus = c.corpus AND a.document_id = c.document_id "
            f"AND a.version = c.version WHERE c.corpus = ? AND c.chunk_id IN ({marks})",
            (corpus, *chunk_ids),
        )
        return {chunk.chunk_id: chunk for chunk in map(_row_to_chunk, rows)}

    def document_chunks(self, corpus: str, document_id: str) -> list[Chunk]:
        rows = self._connection().execute(
            f"SELECT {', '.join('c.' + c for c in _CHUNK_COLUMNS.split(', '))} FROM chunks c "
            "JOIN active a ON a.corpus = c.corpus AND a.document_id = c.document_id "
            "AND a.version = c.version WHERE c.corpus = ? AND c.document_id = ? "
            "ORDER BY c.ordinal",
            (corpus, document_id),
        )
        return [_row_to_chunk(r) for r in rows]

    def corpora(self) -> list[str]:
        rows = self._connection().execute(
            "SELECT corpus FROM generations UNION SELECT DISTINCT corpus FROM chunks"
        )
        return sorted(str(r[0]) for r in rows)

    # -- writes ----------------------------------------------------------------------

    def begin_pending(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        """Record that this process is about to write these (document, version) pairs."""
        versions = list(versions)
        host, pid, now = socket.gethostname(), os.getpid(), time.time()
        with _INFLIGHT_LOCK:
            _INFLIGHT.update((str(self.path), corpus, d, v) for d, v in versions)
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?)",
                [(corpus, d, v, host, pid, now) for d, v in versions],
            )

    def forget_inflight(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        """This process no longer writes these versions (finished, failed or abandoned)."""
        with _INFLIGHT_LOCK:
            _INFLIGHT.difference_update((str(self.path), corpus, d, v) for d, v in versions)

    def end_pending(self, corpus: str, versions: Iterable[tuple[str, int]]) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "DELETE FROM pending WHERE corpus = ? AND document_id = ? AND version = ?",
                [(corpus, d, v) for d, v in versions],
            )

    def insert_chunks(self, corpus: str, rows: Sequence[tuple[Chunk, str, str]]) -> None:
        """Store chunks (with their body and head terms); they stay invisible until activated."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        corpus,
                        c.chunk_id,
                        c.document_id,
                        c.version,
                        c.ordinal,
                        c.title,
                        c.section,
                        c.page,
                        c.text,
                        body,
                        head,
                    )
                    for c, body, head in rows
                ],
            )

    def activate(self, corpus: str, versions: Sequence[tuple[str, int]]) -> int:
        """Make these versions live in one transaction; returns the new generation."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO active VALUES (?, ?, ?)",
                [(corpus, d, v) for d, v in versions],
            )
            conn.executemany(
                "DELETE FROM pending WHERE corpus = ? AND document_id = ? AND version = ?",
                [(corpus, d, v) for d, v in versions],
            )
            return self._bump(conn, corpus)

    def deactivate(self, corpus: str, document_ids: Sequence[str] | None = None) -> int:
        """Remove documents (all of the corpus when None) from search; chunks stay for GC."""
        with self._transaction() as conn:
            if document_ids is None:
                conn.execute("DELETE FROM active WHERE corpus = ?", (corpus,))
            else:
                conn.executemany(
                    "DELETE FROM active WHERE corpus = ? AND document_id = ?",
                    [(corpus, d) for d in document_ids],
                )
            return self._bump(conn, corpus)

    @staticmethod
    def _bump(conn: sqlite3.Connection, corpus: str) -> int:
        conn.execute(
            "INSERT INTO generations VALUES (?, 1) ON CONFLICT(corpus) "
            "DO UPDATE SET generation = generation + 1",
            (corpus,),
        )
        row = conn.execute(
            "SELECT generation FROM generations WHERE corpus = ?", (corpus,)
        ).fetchone()
        return int(row[0])

    def stale_versions(
        self, corpus: str | None = None, document_ids: Sequence[str] | None = None
    ) -> list[StaleVersion]:
        """Versions whose chunks can go: not active, and not being written by a live process."""
        with self._transaction() as conn:
            self._expire_pending(conn)
            query = (
                "SELECT c.corpus, c.document_id, c.version, c.chunk_id FROM chunks c "
                "LEFT JOIN active a ON a.corpus = c.corpus AND a.document_id = c.document_id "
                "LEFT JOIN pending p ON p.corpus = c.corpus AND p.document_id = c.document_id "
                "AND p.version = c.version "
                "WHERE (a.version IS NULL OR a.version != c.version) AND p.version IS NULL"
            )
            params: tuple[str, ...] = ()
            if corpus is not None:
                query += " AND c.corpus = ?"
                params = (corpus,)
            if corpus is not None and document_ids is not None:
                rows = []
                for start in range(0, len(document_ids), 500):
                    part = list(document_ids[start : start + 500])
                    marks = ",".join("?" * len(part))
                    rows += conn.execute(
                        query + f" AND c.document_id IN ({marks})", (*params, *part)
                    ).fetchall()
            else:
                rows = conn.execute(query, params).fetchall()
        grouped: dict[tuple[str, str, int], list[str]] = {}
        for c, d, v, chunk in rows:
            grouped.setdefault((c, d, int(v)), []).append(chunk)
        return [StaleVersion(c, d, v, ids) for (c, d, v), ids in grouped.items()]

    def _expire_pending(self, conn: sqlite3.Connection) -> None:
        host = socket.gethostname()
        now = time.time()
        for corpus, document_id, version, row_host, pid, started in conn.execute(
            "SELECT * FROM pending"
        ).fetchall():
            if row_host == host and int(pid) == os.getpid():
                with _INFLIGHT_LOCK:
                    dead = (str(self.path), corpus, document_id, int(version)) not in _INFLIGHT
            else:
                dead = now - float(started) > PENDING_EXPIRY_S or (
                    row_host == host and not _pid_alive(int(pid))
                )
            if dead:
                conn.execute(
                    "DELETE FROM pending WHERE corpus = ? AND document_id = ? AND version = ?",
                    (corpus, document_id, version),
                )

    def delete_chunks(self, corpus: str, chunk_ids: Sequence[str]) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "DELETE FROM chunks WHERE corpus = ? AND chunk_id = ?",
                [(corpus, c) for c in chunk_ids],
            )

    def forget_corpus(self, corpus: str) -> None:
        """Drop every row of a corpus except its generation (which keeps counting)."""
        with self._transaction() as conn:
            for table in ("chunks", "active", "pending"):
                conn.execute(f"DELETE FROM {table} WHERE corpus = ?", (corpus,))
            self._bump(conn, corpus)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
