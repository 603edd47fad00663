"""Hardening (#16, item 4), through the app: a document that reads too slowly or holds too
much text fails with a clear message, and the documents queued after it are indexed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus
from tests.retrieval.test_parsing_bounds import make_pdf
from tests.server.documents.test_documents import _agent, _wait
from tests.storage import Storage


@pytest.fixture
def bounded(tmp_path: Path, storage: Storage, fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data",
        **storage.settings(),
        max_document_chars=2_000,
        max_document_chunks=50,
        parse_timeout_s=3,
    )
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as client:
        yield client


def test_slow_and_oversized_documents_fail_clearly_and_block_no_other(
    bounded: TestClient,
) -> None:
    add_corpus(bounded, "bornes")
    headers = _agent(bounded, "bornes")
    slow = make_pdf(b"BT /F1 12 Tf 10 10 Td (Bonjour) Tj ET\n" * 200_000)
    files = [
        ("files", ("lent.pdf", slow, "application/pdf")),
        ("files", ("long.txt", ("Une phrase de la fiche. " * 200).encode(), "text/plain")),
        ("files", ("cantine.md", b"# Cantine\n\nLe repas coute 3 euros.", "text/markdown")),
    ]
    upload = bounded.post("/api/v1/corpora/bornes/documents", files=files, headers=headers)
    assert upload.status_code == 202, upload.text
    ids = {r["filename"]: r["document_id"] for r in upload.json()["documents"]}

    lent = _wait(bounded, headers, ids["lent.pdf"])
    assert lent["status"] == "failed"
    assert "temps permis" in lent["error"] and "GUICHET_PARSE_TIMEOUT_S" in lent["error"]
    long = _wait(bounded, headers, ids["long.txt"])
    assert long["status"] == "failed" and "trop de texte" in long["error"]
    assert _wait(bounded, headers, ids["cantine.md"])["status"] == "indexed"

    english = bounded.get(
        f"/api/v1/documents/{ids['long.txt']}", headers={**headers, "Accept-Language": "en"}
    ).json()
    assert english["error"].startswith("long.txt: the document holds too much text")
