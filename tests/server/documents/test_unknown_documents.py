"""Hardening (#16, item 7): the documents of a corpus the caller may not read answer
exactly like ids that do not exist, for GET and DELETE alike."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import add_corpus, add_document
from tests.server.documents.test_documents import _agent


def test_documents_of_another_corpus_are_404_like_missing_ones(client: TestClient) -> None:
    add_corpus(client, "cours-secret", kind="course", review="always")
    add_corpus(client, "mairie-voisine")
    hidden = add_document(client, "cours-secret", "notes.md", "# Notes\n\nLe programme.")
    outsider = _agent(client, "mairie-voisine")

    for method in ("GET", "DELETE"):
        existing = client.request(method, f"/api/v1/documents/{hidden}", headers=outsider)
        missing = client.request(method, f"/api/v1/documents/{hidden + 1000}", headers=outsider)
        assert existing.status_code == missing.status_code == 404, method
        assert existing.json() == missing.json()
    listing = client.get("/api/v1/corpora/cours-secret/documents", headers=outsider)
    nothing = client.get("/api/v1/corpora/cours-absent/documents", headers=outsider)
    assert listing.status_code == nothing.status_code == 404
    assert listing.json()["error"]["code"] == nothing.json()["error"]["code"]
