"""Agents upload and maintain documents through the API; indexing runs in the background."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from accounts.models import Role
from accounts.tokens import issue_token
from accounts.users import create_user
from corpora.repository import add_member, get_corpus
from database import transaction
from server.templating import anchor
from tests.helpers import add_corpus, state


def _agent(client: TestClient, corpus: str) -> dict[str, str]:
    with transaction(state(client).sessions) as session:
        agent = create_user(session=session, name=f"agent-{corpus}", role=Role.agent)
        target = get_corpus(session=session, name=corpus)
        assert target is not None
        add_member(session=session, corpus=target, user_id=agent.id, role="owner")
        token = issue_token(session=session, user=agent)
    return {"Authorization": f"Bearer {token}"}


def _wait(
    client: TestClient,
    headers: dict[str, str],
    document_id: int,
    until: tuple[str, ...] = ("indexed", "failed"),
) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/documents/{document_id}", headers=headers).json()
        if body["status"] in until:
            return body
        time.sleep(0.2)
    raise AssertionError(f"document {document_id} stuck: {body}")


def test_upload_index_reupload_delete(client: TestClient) -> None:
    add_corpus(client, "mairie")
    headers = _agent(client, "mairie")
    files = [
        ("files", ("cantine.md", b"# Cantine\n\nLe repas coute 3 euros.", "text/markdown")),
        ("files", ("horaires.txt", "Horaires de la mairie : 9 h à 17 h.".encode(), "text/plain")),
        ("files", ("casse.pdf", b"%PDF-1.7 pas vraiment un pdf", "application/pdf")),
    ]
    upload = client.post("/api/v1/corpora/mairie/documents", files=files, headers=headers)
    assert upload.status_code == 202, upload.text
    results = {r["filename"]: r for r in upload.json()["documents"]}
    assert upload.json()["document_id"] == results["cantine.md"]["document_id"]
    cantine = _wait(client, headers, results["cantine.md"]["document_id"])
    assert cantine["status"] == "indexed" and cantine["chunks"] >= 1 and cantine["version"] == 1
    assert _wait(client, headers, results["horaires.txt"]["document_id"])["status"] == "indexed"
    broken = _wait(client, headers, results["casse.pdf"]["document_id"])
    assert broken["status"] == "failed"
    assert broken["error"].startswith("casse.pdf :")

    same = client.post(
        "/api/v1/corpora/mairie/documents",
        headers=headers,
        files=[("files", ("cantine.md", b"# Cantine\n\nLe repas coute 3 euros.", "text/markdown"))],
    ).json()
    assert same["documents"][0]["unchanged"] is True

    client.post(
        "/api/v1/corpora/mairie/documents",
        headers=headers,
        files=[("files", ("cantine.md", b"# Cantine\n\nLe repas coute 4 euros.", "text/markdown"))],
    )
    new = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = client.get(f"/api/v1/documents/{cantine['id']}", headers=headers).json()
        if new["indexed_version"] == 2:
            break
        time.sleep(0.2)
    assert new is not None and new["indexed_version"] == 2
    assert [v["version"] for v in new["versions"]] == [1, 2]
    passages = state(client).index.search(corpus="mairie", query="prix du repas", k=3)
    texts = " ".join(p.chunk.text for p in passages)
    assert "4 euros" in texts and "3 euros" not in texts

    assert client.delete(f"/api/v1/documents/{cantine['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/documents/{cantine['id']}", headers=headers).status_code == 404
    left = state(client).index.search(corpus="mairie", query="prix du repas cantine", k=5)
    assert all(p.chunk.document_id != str(cantine["id"]) for p in left)


def test_oversized_and_forbidden_uploads(client: TestClient) -> None:
    add_corpus(client, "mairie")
    headers = _agent(client, "mairie")
    big = b"a" * (2 * 1024 * 1024 + 1)  # the test settings allow 2 MB
    refused = client.post(
        "/api/v1/corpora/mairie/documents",
        headers=headers,
        files=[("files", ("gros.txt", big, "text/plain"))],
    )
    assert refused.status_code == 413
    error = refused.json()["documents"][0]["error"]
    assert error["code"] == "too_large"
    assert (
        error["message"]
        == "gros.txt : le fichier dépasse la taille maximale autorisée (2\u202fMo)."
    )

    anonymous = client.post(
        "/api/v1/corpora/mairie/documents", files=[("files", ("a.txt", b"bonjour", "text/plain"))]
    )
    assert anonymous.status_code == 401
    add_corpus(client, "autre")
    other = _agent(client, "autre")
    forbidden = client.post(
        "/api/v1/corpora/mairie/documents",
        headers=other,
        files=[("files", ("a.txt", b"bonjour", "text/plain"))],
    )
    assert forbidden.status_code == 403


def test_document_page_highlights_the_cited_passage(client: TestClient) -> None:
    from tests.helpers import add_document

    add_corpus(client, "mairie")
    doc = add_document(
        client,
        "mairie",
        "carte.md",
        "# Carte\n\n## Pièces\n\nUne photo <b>récente</b>.\n\n## Délais\n\nTrois semaines.",
    )
    chunks = state(client).index.document_chunks(corpus="mairie", document_id=str(doc))
    page = client.get(f"/documents/{doc}", params={"passage": chunks[0].chunk_id})
    assert page.status_code == 200
    assert f'id="passage-{anchor(chunks[0].chunk_id)}"' in page.text
    assert "passage--cited" in page.text
    assert "<b>récente</b>" not in page.text  # document text is escaped
