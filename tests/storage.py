"""Where an app instance under test keeps its state, as the run's options ask.

``--db postgres`` gives each instance a fresh PostgreSQL database and ``--chroma server``
a fresh database on one shared Chroma server; by default both live in the instance's data
folder (SQLite, embedded Chroma). Settings and subprocess environments both come from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from retrieval.catalog import private_engine
from retrieval.embedding import TextEmbedder
from retrieval.index import SearchIndex
from server.settings import Settings


@dataclass(frozen=True)
class Storage:
    database_url: str | None = None
    chroma_url: str | None = None
    chroma_database: str | None = None

    def settings(self) -> dict[str, str]:
        """Settings overrides (only those that differ from the defaults)."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def env(self) -> dict[str, str]:
        """The same as ``GUICHET_*`` environment variables, for `guichet` subprocesses."""
        return {f"GUICHET_{name.upper()}": value for name, value in self.settings().items()}


def new_storage(request: pytest.FixtureRequest) -> Storage:
    """Fresh storage for one more app instance."""
    database_url = chroma_url = chroma_database = None
    if request.config.getoption("--db") == "postgres":
        database_url = request.getfixturevalue("postgres_server").create_database()
    if request.config.getoption("--chroma") == "server":
        server = request.getfixturevalue("chroma_server")
        chroma_url, chroma_database = server.url, server.new_database()
    return Storage(database_url, chroma_url, chroma_database)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment for a `guichet` command working on the same instance as ``settings``."""
    env = {"GUICHET_DATA_DIR": str(settings.data_dir), "GUICHET_SECRET_KEY": "test-secret"}
    stored = Storage(settings.database_url, settings.chroma_url, settings.chroma_database)
    return {**env, **stored.env()}


def catalog_engine(storage: Storage) -> Engine | None:
    """The database a bare ``SearchIndex`` keeps its catalog in under this storage: the
    run's PostgreSQL database with the catalog's tables (made from the models, like the
    ``sessions`` fixture's tables: the two may share it), or None (a SQLite file under the
    index folder, which every process opening that folder shares)."""
    if storage.database_url is None:
        return None
    return private_engine(storage.database_url)


def open_index(root: Path, embedder: TextEmbedder, storage: Storage) -> Iterator[SearchIndex]:
    """A search index on ``root`` with the run's catalog and Chroma, closed afterwards
    (``yield from`` it in a fixture)."""
    engine = catalog_engine(storage)
    search_index = SearchIndex(
        root=root,
        embedder=embedder,
        database=engine,
        chroma_url=storage.chroma_url,
        chroma_database=storage.chroma_database,
    )
    yield search_index
    search_index.close()
    if engine is not None:
        engine.dispose()
