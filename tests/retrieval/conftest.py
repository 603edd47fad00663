"""Shared fixtures for the retrieval tests: one real embedder per session, real storage.

The top-level conftest sets HF_HUB_OFFLINE; the embedder also loads with
``local_files_only``, so nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from tests.storage import Storage

REPO_ROOT = Path(__file__).resolve().parents[2]
EVAL_ROOT = REPO_ROOT.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2, loaded once (a few seconds)."""
    return Embedder()


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder, storage: Storage) -> Iterator[SearchIndex]:
    """A fresh index on a temporary folder (SQLite catalog; Chroma as the run asks)."""
    search_index = SearchIndex(
        root=tmp_path / "index",
        embedder=embedder,
        chroma_url=storage.chroma_url,
        chroma_database=storage.chroma_database,
    )
    yield search_index
    search_index.close()
