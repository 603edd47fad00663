"""Fixtures shared by every suite: real storage in a temp folder, one embedder per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import PROJECT_ROOT, Settings
from tests.fake_engine import FakeEngine
from tests.server.conftest_engine import embedded_engine, prepared_model_dir  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"


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
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    """The real app over real SQLite and Chroma; only the engine's HTTP is faked."""
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as test_client:
        yield test_client
