"""`guichet bench retrieval` on a small corpus: the search after another process's change
is measured on the very catalog the other process wrote to."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.bench import CHANGES, bench_search
from retrieval.catalog import Catalog, private_engine
from retrieval.embedding import Embedder
from tests.storage import Storage, catalog_engine

pytestmark = pytest.mark.slow

WORDS = "permis conduire passeport mairie timbre fiscal cantine revenus taxe logement".split()


def test_search_after_another_process_changed_a_document(
    tmp_path: Path, embedder: Embedder, storage: Storage
) -> None:
    engine = catalog_engine(storage)  # PostgreSQL under --db postgres, else a SQLite file
    url = None if engine is None else engine.url.render_as_string(hide_password=False)
    result = bench_search(
        chunks=300, vocabulary=WORDS, embedder=embedder, queries=5, root=tmp_path, database_url=url
    )
    assert result["chunks"] == 300 and result["changes"] == CHANGES
    assert result["search_after_change"]["p50_ms"] > 0 and result["search_normal"]["p50_ms"] > 0
    assert result["after_change_ratio_p50"] > 0
    # The other process's new versions are what the catalog now holds (and the bench
    # checked that each timed search saw its change).
    written = private_engine(url or f"sqlite:///{(tmp_path / 'bench-catalog.db')}")
    catalog = Catalog(written)
    versions = catalog.active_versions("bench")
    catalog.close()
    written.dispose()
    assert sorted(d for d, v in versions.items() if v == 2) == sorted(
        f"d{i}" for i in range(CHANGES)
    )
    if engine is not None:
        engine.dispose()
