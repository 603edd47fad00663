"""The app under test keeps its state where the run's options say (``--db``, ``--chroma``).

The PostgreSQL and Chroma-server passes of `make test` would prove nothing if the app
silently fell back to SQLite or embedded Chroma; this checks the fall-back did not happen.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from retrieval.vectors import collection_name
from tests.helpers import add_corpus, add_document, state


def test_state_is_where_the_run_asked(client: TestClient, request: pytest.FixtureRequest) -> None:
    add_corpus(client, "mairie")
    add_document(client, "mairie", "carte.md", "# Carte\n\nUne photo d'identité récente.")
    settings = state(client).settings
    uses_postgres = settings.sqlalchemy_url.startswith("postgresql")
    assert uses_postgres == (request.config.getoption("--db") == "postgres")
    embedded = settings.data_dir / "chroma"
    if request.config.getoption("--chroma") == "embedded":
        assert settings.chroma_url is None and embedded.is_dir()
        return
    assert not embedded.exists()
    server = request.getfixturevalue("chroma_server")
    assert settings.chroma_url == server.url and settings.chroma_database
    # Asked of the Chroma server itself (its REST API), not through Guichet's client.
    base = f"{server.url}/api/v2/tenants/default_tenant/databases/{settings.chroma_database}"
    collections = httpx.get(f"{base}/collections", timeout=10).json()
    found = {c["name"]: c["id"] for c in collections}
    assert collection_name("mairie") in found
    count = httpx.get(f"{base}/collections/{found[collection_name('mairie')]}/count", timeout=10)
    assert count.json() >= 1
