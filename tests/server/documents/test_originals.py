"""Originals are kept in the database and downloaded from it, part after part."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from corpora.originals import PART_BYTES, OriginalPart
from database import transaction
from tests.helpers import add_corpus, state
from tests.server.documents.test_documents import _agent, _wait

CARTE = "# Carte d'identité\n\nUne photo récente et un justificatif de domicile.".encode()


def _upload(client: TestClient, headers: dict[str, str], name: str, data: bytes) -> int:
    sent = client.post(
        "/api/v1/corpora/mairie/documents", headers=headers, files=[("files", (name, data))]
    )
    assert sent.status_code == 202, sent.text
    return int(sent.json()["document_id"])


def test_the_served_version_is_downloaded_by_anyone_the_history_by_owners(
    client: TestClient,
) -> None:
    add_corpus(client, "mairie")
    headers = _agent(client, "mairie")
    document_id = _upload(client, headers, "carte d'identité.md", CARTE)
    assert _wait(client, headers, document_id)["indexed_version"] == 1
    page = client.get(f"/documents/{document_id}")
    assert f'href="/api/v1/documents/{document_id}/original"' in page.text
    assert "Télécharger le fichier d&#39;origine (carte d&#39;identité.md)" in page.text

    first = client.get(f"/api/v1/documents/{document_id}/original")  # a citizen, signed out
    assert first.status_code == 200 and first.content == CARTE
    assert first.headers["content-type"].startswith("text/markdown")
    assert first.headers["content-length"] == str(len(CARTE))
    assert first.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''carte%20d%27identit%C3%A9.md"
    )
    assert first.headers["x-content-type-options"] == "nosniff"

    second = CARTE + b"\n\nSur rendez-vous."
    _upload(client, headers, "carte d'identité.md", second)
    body = _wait(client, headers, document_id, until=("indexed",))
    while body["indexed_version"] != 2:
        body = _wait(client, headers, document_id, until=("indexed",))
    assert client.get(f"/api/v1/documents/{document_id}/original").content == second
    old = f"/api/v1/documents/{document_id}/original?version=1"
    assert client.get(old).status_code == 401  # the history is its owners'
    assert client.get(old, headers=headers).content == CARTE

    assert client.delete(f"/api/v1/documents/{document_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/documents/{document_id}/original").status_code == 404


def test_a_large_original_is_kept_and_streamed_in_parts(client: TestClient) -> None:
    add_corpus(client, "mairie")
    headers = _agent(client, "mairie")
    # Not a PDF inside: indexing fails, and only owners may download what is not served.
    data = b"%PDF-1.7 " + bytes(range(256)) * (3 * PART_BYTES // 512)
    document_id = _upload(client, headers, "registre.pdf", data)
    assert _wait(client, headers, document_id)["status"] == "failed"
    with transaction(state(client).sessions) as session:
        parts = session.scalar(select(func.count()).select_from(OriginalPart))
    assert parts == 2  # 1.5 MiB in parts of 1 MiB
    assert client.get(f"/api/v1/documents/{document_id}/original").status_code == 401
    with client.stream(
        "GET", f"/api/v1/documents/{document_id}/original", headers=headers
    ) as download:
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/pdf"
        received = b"".join(download.iter_bytes())
    assert received == data
