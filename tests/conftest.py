"""Fixtures shared by every suite: real storage in a temp folder, one embedder per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from server.app import create_app
from server.settings import PROJECT_ROOT, Settings
from tests.chroma import ChromaServer
from tests.factories import session, sessions  # noqa: F401 - fixtures
from tests.fake_engine import FakeEngine
from tests.postgres import PostgresServer
from tests.server.engine.fixtures import embedded_engine, prepared_model_dir  # noqa: F401
from tests.storage import Storage, new_storage, open_index

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# One embedding cache for every app the suite starts (in this process or as `guichet`
# subprocesses, which inherit the variable): the demo corpora are embedded once per
# machine, not once per test. The cache only ever saves time; results are the same.
os.environ.setdefault(
    "GUICHET_EMBEDDING_CACHE",
    str(
        Path(os.environ.get("GUICHET_TEST_CACHE", PROJECT_ROOT / "data" / "test-cache"))
        / "embedding-cache.sqlite3"
    ),
)

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("GUICHET_TEST_DB", "sqlite"),
        help="Database the app fixtures use (PostgreSQL is started by the suite).",
    )
    parser.addoption(
        "--chroma",
        choices=("embedded", "server"),
        default=os.environ.get("GUICHET_TEST_CHROMA", "embedded"),
        help="Chroma the app and index fixtures use (a `chroma run` server is started by "
        "the suite; each instance gets its own Chroma database on it).",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API leaves its event loop marked as running in the main thread
    between calls, for as long as the session's browser lives: an `asyncio.run` or an
    async test after the first browser test would fail. Sorting is stable, so every
    other test keeps its order.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def steady_rate_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the rate limits' clock inside one window for the whole test.

    Budgets are counted per minute (and per quarter hour for sign-ins); a test that
    spends one across a window boundary would see its counter start again.
    """
    import types

    from server.security import ratelimit

    now = (int(ratelimit.time.time()) // 3600) * 3600 + 1
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    server = ChromaServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def storage(request: pytest.FixtureRequest) -> Storage:
    """SQL database and Chroma of the test's app (see ``tests/storage.py``)."""
    return new_storage(request)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "llm_base_url": "http://engine.test/v1",
        "llm_model": "fake",
        "secret_key": "test-secret",
        "max_upload_mb": 2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def settings(tmp_path: Path, storage: Storage) -> Settings:
    return make_settings(tmp_path / "data", **storage.settings())


@pytest.fixture
def client(settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    """The real app over real storage and Chroma; only the engine's HTTP is faked."""
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once (a few seconds); the embedder loads with
    ``local_files_only``, so nothing is ever downloaded."""
    return Embedder()


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder, storage: Storage) -> Iterator[SearchIndex]:
    """A fresh index on a temporary folder; catalog and Chroma where the run asks (by
    default a SQLite catalog of its own under the folder and embedded Chroma)."""
    yield from open_index(tmp_path / "index", embedder, storage)
