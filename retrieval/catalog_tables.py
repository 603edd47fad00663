"""Where the catalog lives: its tables, on the shared metadata so Alembic manages them,
and the engines it runs on.

They live in the application's database (PostgreSQL or the SQLite file), so every host
and process that shares the database shares one catalog. Names start with ``retrieval_``:
nothing else in the database reads them; ``retrieval.catalog`` is their only writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

from database import Base

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_ID = BigInteger().with_variant(Integer(), "sqlite")

# One row per chunk of every version still stored (active, being written, or awaiting
# garbage collection), with the analysed terms the lexical index is built from. ``id``
# keeps insertion order, which breaks BM25 ties the same way on every backend.
chunks = Table(
    "retrieval_chunks",
    Base.metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("corpus", String, nullable=False),
    Column("chunk_id", String, nullable=False),
    Column("document_id", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("section", Text, nullable=False),
    Column("page", Integer, nullable=True),
    Column("text", Text, nullable=False),
    Column("body_terms", Text, nullable=False),
    Column("head_terms", Text, nullable=False),
    UniqueConstraint("corpus", "chunk_id"),
    Index("ix_retrieval_chunks_document", "corpus", "document_id", "version", "ordinal"),
)

# The live version of each document: search returns chunks of these versions only.
active = Table(
    "retrieval_active",
    Base.metadata,
    Column("corpus", String, nullable=False),
    Column("document_id", String, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("corpus", "document_id"),
)

# Per-corpus counter bumped by every switch; the row is also the lock that orders them.
generations = Table(
    "retrieval_generations",
    Base.metadata,
    Column("corpus", String, primary_key=True),
    Column("generation", BigInteger, nullable=False),
)

# Which documents each generation changed (document_id NULL: the whole corpus), so a
# process holding an older generation refreshes its lexical index for those only.
changes = Table(
    "retrieval_changes",
    Base.metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("corpus", String, nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("document_id", String, nullable=True),
    Index("ix_retrieval_changes_corpus_generation", "corpus", "generation"),
)

# Named counters (the embedded-Chroma vector epoch).
counters = Table(
    "retrieval_counters",
    Base.metadata,
    Column("name", String, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Writes in progress: which host and process is writing which version, since when.
pending = Table(
    "retrieval_pending",
    Base.metadata,
    Column("corpus", String, nullable=False),
    Column("document_id", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),
    PrimaryKeyConstraint("corpus", "document_id", "version"),
)

TABLES = (chunks, active, generations, changes, counters, pending)


def private_engine(url: str) -> Engine:
    """An engine for a catalog of its own (a SQLite file), with its tables created.

    For tools that index without an application database (evaluation, benchmarks,
    scripts); the application passes its own engine, migrated by Alembic, instead.
    """
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in TABLES:
            table.create(conn, checkfirst=True)
    return engine


def sqlite_catalog_engine(engine: Engine) -> Engine:
    """An engine on the same SQLite file as ``engine``, in driver autocommit mode, so that
    the catalog issues its own ``BEGIN IMMEDIATE`` / ``BEGIN`` / ``COMMIT``."""
    url = engine.url
    if url.database in (None, "", ":memory:"):
        raise ValueError("the retrieval catalog needs a SQLite file, not an in-memory database")
    own = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"check_same_thread": False, "timeout": 60},
    )

    @event.listens_for(own, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    return own
