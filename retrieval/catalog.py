"""The catalog: which chunks exist, which version of each document is live.

Tables of the application's SQL database (see ``catalog_tables.py``), so every process
and every host sharing that database shares one catalog. It is the source of truth for:

- chunk rows (text, metadata and analysed terms, so the lexical index can be rebuilt
  without re-analysing text);
- the *active version* of each document: search only ever returns chunks of the active
  version, so switching a document to a new version is one transaction;
- a per-corpus *generation* counter, bumped by every switch, that lets other processes
  notice cheaply that their in-memory lexical index is stale, and a change log saying
  which documents each generation touched, so they refresh only those;
- *pending* writes (which host and process is writing which version), so that garbage
  collection never removes the chunks of a write still running elsewhere.

SQLite: write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on the
file lock instead of failing on lock upgrade. PostgreSQL: the generation row, updated in
the switch's transaction, orders concurrent switches of a corpus; snapshots that must be
consistent across several statements are read at REPEATABLE READ.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, select, union, update
from sqlalchemy.dialects import postgresql, sqlite

from retrieval.catalog_tables import (
    active,
    changes,
    chunks,
    counters,
    generations,
    private_engine,
    sqlite_catalog_engine,
)
from retrieval.catalog_tables import pending as pending_table
from retrieval.pending import PendingWrites, StaleVersion, end_pending, parts
from retrieval.types import Chunk

__all__ = ["Catalog", "LexicalChanges", "LexicalRows", "StaleVersion", "private_engine"]

# Change-log rows older than this many generations are pruned; a process holding an
# older generation than the log covers rebuilds its lexical index in full.
CHANGE_LOG_KEEP = 10_000

_CHUNK_COLUMNS = (
    chunks.c.chunk_id,
    chunks.c.document_id,
    chunks.c.version,
    chunks.c.ordinal,
    chunks.c.title,
    chunks.c.section,
    chunks.c.page,
    chunks.c.text,
)
_LIVE = (
    (active.c.corpus == chunks.c.corpus)
    & (active.c.document_id == chunks.c.document_id)
    & (active.c.version == chunks.c.version)
)


@dataclass(frozen=True)
class LexicalRows:
    """Analysed terms of active chunks of a corpus, read in one snapshot."""

    generation: int
    chunk_ids: list[str]
    document_ids: list[str]
    body_terms: list[str]
    head_terms: list[str]
    active: dict[str, int]


@dataclass(frozen=True)
class LexicalChanges:
    """What changed in a corpus after a generation: the documents touched (None when the
    change log cannot tell, e.g. a whole corpus dropped) and, for them, their active
    chunks' terms and active versions at ``rows.generation``."""

    documents: frozenset[str] | None
    rows: LexicalRows


def _row_to_chunk(row: Sequence[Any]) -> Chunk:
    chunk_id, document_id, version, ordinal, title, section, page, text = row
    return Chunk(
        chunk_id=str(chunk_id),
        document_id=str(document_id),
        version=int(version),
        ordinal=int(ordinal),
        title=str(title),
        section=str(section),
        page=None if page is None else int(page),
        text=str(text),
    )


class Catalog:
    """Chunks, active versions, generations, change log and pending writes, in SQL."""

    def __init__(self, engine: Engine) -> None:
        self._sqlite = engine.dialect.name == "sqlite"
        self._owned = self._sqlite
        self._engine = sqlite_catalog_engine(engine) if self._sqlite else engine
        self.key = engine.url.render_as_string(hide_password=True)
        self.pending = PendingWrites(
            key=self.key, transaction=self._transaction, insert=self._insert()
        )

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self._sqlite:
                # IMMEDIATE takes the write lock up front so that two writers queue
                # instead of failing on lock upgrade; readers get a snapshot with BEGIN.
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
                return
            if not write:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for one-statement reads (each statement is its own snapshot)."""
        with self._engine.connect() as conn:
            yield conn

    def close(self) -> None:
        """Close the pooled connections of an engine this catalog made for itself."""
        if self._owned:
            self._engine.dispose()

    def _insert(self) -> Any:
        return sqlite.insert if self._sqlite else postgresql.insert

    # -- reads -----------------------------------------------------------------------

    def generation(self, corpus: str) -> int:
        with self._reading() as conn:
            value = conn.scalar(
                select(generations.c.generation).where(generations.c.corpus == corpus)
            )
        return int(value or 0)

    def counter(self, name: str) -> int | None:
        """A named counter (None when never set)."""
        with self._reading() as conn:
            value = conn.scalar(select(counters.c.value).where(counters.c.name == name))
        return None if value is None else int(value)

    def set_counter(self, name: str, value: int) -> None:
        """Set a named counter (the analysis that made the stored terms, ``terms.py``)."""
        insert = self._insert()(counters).values(name=name, value=value)
        statement = insert.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": value}
        )
        with self._transaction() as conn:
            conn.execute(statement)

    def vector_epoch(self, store: str) -> int:
        """Counter bumped by every write to the embedded Chroma at ``store`` (see
        ``vectors.VectorStore``); one per store, as hosts sharing the catalog each have
        their own."""
        return self.counter(f"vector_epoch:{store}") or 0

    def bump_vector_epoch(self, store: str) -> int:
        insert = self._insert()(counters).values(name=f"vector_epoch:{store}", value=1)
        statement = insert.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
        ).returning(counters.c.value)
        with self._transaction() as conn:
            return int(conn.execute(statement).scalar_one())

    def active_versions(self, corpus: str) -> dict[str, int]:
        with self._reading() as conn:
            rows = conn.execute(
                select(active.c.document_id, active.c.version).where(active.c.corpus == corpus)
            )
            return {str(d): int(v) for d, v in rows}

    def active_versions_of(self, corpus: str, document_ids: Sequence[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        with self._reading() as conn:
            for part in parts(document_ids):
                rows = conn.execute(
                    select(active.c.document_id, active.c.version).where(
                        active.c.corpus == corpus, active.c.document_id.in_(part)
                    )
                )
                result.update({str(d): int(v) for d, v in rows})
        return result

    def chunk_ids_of(self, corpus: str, document_id: str, version: int) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                select(chunks.c.chunk_id)
                .where(
                    chunks.c.corpus == corpus,
                    chunks.c.document_id == document_id,
                    chunks.c.version == version,
                )
                .order_by(chunks.c.id)
            )
            return [str(r[0]) for r in rows]

    def lexical_rows(self, corpus: str) -> LexicalRows:
        """Terms of every active chunk of ``corpus``, with the generation they belong to."""
        with self._transaction(write=False) as conn:
            return self._lexical_rows(conn, corpus, None)

    def lexical_changes(self, corpus: str, since: int) -> LexicalChanges:
        """What a process holding generation ``since`` must refresh (see ``LexicalChanges``)."""
        with self._transaction(write=False) as conn:
            now = int(
                conn.scalar(select(generations.c.generation).where(generations.c.corpus == corpus))
                or 0
            )
            logged = conn.execute(
                select(changes.c.generation, changes.c.document_id).where(
                    changes.c.corpus == corpus,
                    changes.c.generation > since,
                    changes.c.generation <= now,
                )
            ).all()
            seen = {int(g) for g, _ in logged}
            # Every bump logs at least one row: a gap means the log was pruned.
            complete = now >= since and len(seen) == now - since
            if not complete or any(d is None for _, d in logged):
                return LexicalChanges(None, self._lexical_rows(conn, corpus, None))
            touched = sorted({str(d) for _, d in logged})
            return LexicalChanges(frozenset(touched), self._lexical_rows(conn, corpus, touched))

    @staticmethod
    def _lexical_rows(conn: Connection, corpus: str, documents: list[str] | None) -> LexicalRows:
        now = conn.scalar(select(generations.c.generation).where(generations.c.corpus == corpus))
        query = (
            select(
                chunks.c.chunk_id, chunks.c.document_id, chunks.c.body_terms, chunks.c.head_terms
            )
            .join(active, _LIVE)
            .where(chunks.c.corpus == corpus)
            .order_by(chunks.c.id)
        )
        versions = select(active.c.document_id, active.c.version).where(active.c.corpus == corpus)
        if documents is None:
            rows = list(conn.execute(query).all())
            live = list(conn.execute(versions).all())
        else:
            rows, live = [], []
            for part in parts(documents):
                rows += conn.execute(query.where(chunks.c.document_id.in_(part))).all()
                live += conn.execute(versions.where(active.c.document_id.in_(part))).all()
        return LexicalRows(
            generation=int(now or 0),
            chunk_ids=[r[0] for r in rows],
            document_ids=[r[1] for r in rows],
            body_terms=[r[2] for r in rows],
            head_terms=[r[3] for r in rows],
            active={str(d): int(v) for d, v in live},
        )

    def chunks_by_id(self, corpus: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Active chunks among ``chunk_ids``."""
        found: dict[str, Chunk] = {}
        with self._reading() as conn:
            for part in parts(chunk_ids):
                rows = conn.execute(
                    select(*_CHUNK_COLUMNS)
                    .join(active, _LIVE)
                    .where(chunks.c.corpus == corpus, chunks.c.chunk_id.in_(part))
                )
                found.update((chunk.chunk_id, chunk) for chunk in map(_row_to_chunk, rows))
        return found

    def live_texts(self, corpus: str, document_ids: Sequence[str]) -> list[tuple[str, int, str]]:
        """(document, version, text) of the live chunks of these documents."""
        query = (
            select(chunks.c.document_id, chunks.c.version, chunks.c.text)
            .join(active, _LIVE)
            .where(chunks.c.corpus == corpus)
        )
        with self._reading() as conn:
            return [
                (str(d), int(v), str(t))
                for part in parts(document_ids)
                for d, v, t in conn.execute(query.where(chunks.c.document_id.in_(part)))
            ]

    def document_chunks(self, corpus: str, document_id: str) -> list[Chunk]:
        with self._reading() as conn:
            rows = conn.execute(
                select(*_CHUNK_COLUMNS)
                .join(active, _LIVE)
                .where(chunks.c.corpus == corpus, chunks.c.document_id == document_id)
                .order_by(chunks.c.ordinal)
            )
            return [_row_to_chunk(r) for r in rows]

    def corpora(self) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute(
                union(select(generations.c.corpus), select(chunks.c.corpus).distinct())
            )
            return sorted(str(r[0]) for r in rows)

    # -- writes ----------------------------------------------------------------------

    def insert_chunks(self, corpus: str, rows: Sequence[tuple[Chunk, str, str]]) -> None:
        """Store chunks (with their body and head terms); they stay invisible until activated."""
        if not rows:
            return
        insert = self._insert()(chunks)
        columns = (
            "document_id", "version", "ordinal", "title", "section", "page", "text",
            "body_terms", "head_terms",
        )  # fmt: skip
        statement = insert.on_conflict_do_update(
            index_elements=[chunks.c.corpus, chunks.c.chunk_id],
            set_={name: insert.excluded[name] for name in columns},
        )
        with self._transaction() as conn:
            conn.execute(
                statement,
                [
                    {
                        "corpus": corpus,
                        "chunk_id": c.chunk_id,
                        "document_id": c.document_id,
                        "version": c.version,
                        "ordinal": c.ordinal,
                        "title": c.title,
                        "section": c.section,
                        "page": c.page,
                        "text": c.text,
                        "body_terms": body,
                        "head_terms": head,
                    }
                    for c, body, head in rows
                ],
            )

    def update_terms(self, corpus: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """Replace the stored terms of chunks still stored: (chunk id, body, head)."""
        statement = (
            update(chunks)
            .where(chunks.c.corpus == corpus, chunks.c.chunk_id == bindparam("chunk"))
            .values(body_terms=bindparam("body"), head_terms=bindparam("head"))
        )
        if rows:
            with self._transaction() as conn:
                conn.execute(statement, [{"chunk": i, "body": b, "head": h} for i, b, h in rows])

    def activate(self, corpus: str, versions: Sequence[tuple[str, int]]) -> int:
        """Make these versions live in one transaction; returns the new generation."""
        versions = list(versions)
        insert = self._insert()(active)
        statement = insert.on_conflict_do_update(
            index_elements=[active.c.corpus, active.c.document_id],
            set_={"version": insert.excluded.version},
        )
        with self._transaction() as conn:
            # The bump comes first: on PostgreSQL its row lock orders concurrent switches.
            generation = self._bump(conn, corpus, [d for d, _ in versions])
            if versions:
                conn.execute(
                    statement,
                    [{"corpus": corpus, "document_id": d, "version": v} for d, v in versions],
                )
            end_pending(conn, corpus, versions)
            return generation

    def deactivate(self, corpus: str, document_ids: Sequence[str] | None = None) -> int:
        """Remove documents (all of the corpus when None) from search; chunks stay for GC."""
        with self._transaction() as conn:
            generation = self._bump(conn, corpus, document_ids)
            if document_ids is None:
                conn.execute(delete(active).where(active.c.corpus == corpus))
            else:
                for part in parts(document_ids):
                    conn.execute(
                        delete(active).where(
                            active.c.corpus == corpus, active.c.document_id.in_(part)
                        )
                    )
            return generation

    def _bump(self, conn: Connection, corpus: str, document_ids: Sequence[str] | None) -> int:
        """Next generation of ``corpus``, logged with the documents it changes."""
        insert = self._insert()(generations).values(corpus=corpus, generation=1)
        statement = insert.on_conflict_do_update(
            index_elements=[generations.c.corpus],
            set_={"generation": generations.c.generation + 1},
        ).returning(generations.c.generation)
        generation = int(conn.execute(statement).scalar_one())
        touched: list[str | None] = list(dict.fromkeys(document_ids)) if document_ids else []
        if document_ids is None or not touched:
            touched = [None]  # None: the whole corpus (or nothing: a harmless full refresh)
        conn.execute(
            changes.insert(),
            [{"corpus": corpus, "generation": generation, "document_id": d} for d in touched],
        )
        if generation % 1000 == 0:
            conn.execute(
                delete(changes).where(
                    changes.c.corpus == corpus,
                    changes.c.generation <= generation - CHANGE_LOG_KEEP,
                )
            )
        return generation

    def delete_chunks(self, corpus: str, chunk_ids: Sequence[str]) -> None:
        with self._transaction() as conn:
            for part in parts(chunk_ids):
                conn.execute(
                    delete(chunks).where(chunks.c.corpus == corpus, chunks.c.chunk_id.in_(part))
                )

    def forget_corpus(self, corpus: str) -> None:
        """Drop every row of a corpus except its generation (which keeps counting)."""
        with self._transaction() as conn:
            for table in (chunks, active, pending_table):
                conn.execute(delete(table).where(table.c.corpus == corpus))
            self._bump(conn, corpus, None)
