"""A folder on the server and a WebDAV share (a real WsgiDAV server on 127.0.0.1) kept in
sync, and the credentials of a share kept encrypted."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from corpora.sources.models import Source, SourceKind
from database import transaction
from tests.helpers import add_corpus, state
from tests.server.sources.helpers import new_source, run, synced_documents
from tests.sites import WebDavServer

LESSONS = {
    "respiration.md": "# Respiration\n\nLes poumons échangent le dioxygène et le dioxyde de "
    "carbone avec le sang.",
    "digestion.md": "# Digestion\n\nL'estomac et l'intestin transforment les aliments en "
    "nutriments.",
    "chapitre-2/circulation.md": "# Circulation\n\nLe cœur met le sang en mouvement dans les "
    "vaisseaux.",
    "chapitre-2/nutrition.txt": "Une alimentation équilibrée apporte les nutriments utiles.",
    "chapitre-2/reproduction.md": "# Reproduction\n\nLes cellules reproductrices portent "
    "l'information génétique.",
    "chapitre-2/immunite.md": "# Immunité\n\nLes globules blancs défendent l'organisme.",
}


def write_lessons(root: Path) -> None:
    for name, text in LESSONS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".brouillon.md").write_text("# Caché\n\nPas pour les élèves.", encoding="utf-8")
    (root / "photo.png").write_bytes(b"\x89PNG not a lesson")


def touch_later(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))


def test_a_folder_is_synced_and_a_missing_folder_removes_nothing(
    client: TestClient, tmp_path: Path
) -> None:
    add_corpus(client, "svt", kind="course")
    root = tmp_path / "partage"
    write_lessons(root)
    source = new_source(client, "svt", SourceKind.folder, str(root))

    first = run(client, source)
    assert (first.added, first.failed) == (6, 0)
    documents = synced_documents(client, source)
    assert sorted(documents) == sorted(LESSONS)
    assert documents["chapitre-2/circulation.md"].filename == "chapitre-2 › circulation.md"

    touch_later(root / "digestion.md", "# Digestion\n\nL'intestin grêle absorbe les nutriments.")
    (root / "chapitre-2" / "immunite.md").unlink()
    second = run(client, source)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 1, 4, 1)
    assert synced_documents(client, source)["digestion.md"].indexed_version == 2

    # The share is not mounted today: the run fails and every document stays.
    root.rename(tmp_path / "ailleurs")
    third = run(client, source)
    assert third.status == "failed" and third.error_code == "folder_missing"
    assert len(synced_documents(client, source)) == 5


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[WebDavServer]:
    root = tmp_path / "nextcloud"
    write_lessons(root)
    with WebDavServer(root) as server:
        yield server


def _webdav_source(client: TestClient, dav: WebDavServer, password: str) -> int:
    app = state(client)
    return new_source(
        client,
        "svt",
        SourceKind.webdav,
        dav.url,
        username=dav.user,
        sealed_password=app.secrets.seal(password),
    )


def test_a_webdav_share_is_synced_with_its_password_kept_encrypted(
    client: TestClient, dav: WebDavServer
) -> None:
    add_corpus(client, "svt", kind="course")
    source = _webdav_source(client, dav, dav.password)
    with transaction(state(client).sessions) as session:
        stored = session.get_one(Source, source).secret
    assert stored is not None and dav.password not in stored

    first = run(client, source)
    assert first.status == "done", first
    assert (first.added, first.failed) == (6, 0)
    assert "chapitre-2/nutrition.txt" in synced_documents(client, source)

    touch_later(dav.root / "respiration.md", "# Respiration\n\nL'air entre par la trachée.")
    (dav.root / "digestion.md").unlink()
    second = run(client, source)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 1, 4, 1)
    assert synced_documents(client, source)["respiration.md"].indexed_version == 2


def test_a_refused_webdav_password_is_named_and_removes_nothing(
    client: TestClient, dav: WebDavServer
) -> None:
    add_corpus(client, "svt", kind="course")
    good = _webdav_source(client, dav, dav.password)
    run(client, good)
    with transaction(state(client).sessions) as session:
        session.get_one(Source, good).secret = state(client).secrets.seal("not the password")

    report = run(client, good)

    assert report.status == "failed" and report.error_code == "auth_failed"
    assert report.removed == 0 and len(synced_documents(client, good)) == 6
