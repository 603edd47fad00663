"""Owners manage sources through the API and the documents page; the app's worker runs
them (first at once, then at their interval, or when asked); one run per source at a time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.audit import AuditEvent
from accounts.models import Role
from corpora.sources.models import SourceKind
from corpora.sources.repository import take_lease
from corpora.sources.sync import SyncBusy
from database import transaction
from server.settings import Settings
from tests.conftest import make_settings
from tests.helpers import add_corpus, state
from tests.server.accounts_fixtures import FROM_PAGE, add_user, sign_in, token_for
from tests.server.sources.helpers import new_source, run, town_hall_site
from tests.sites import StaticSite
from tests.storage import Storage


@pytest.fixture
def settings(tmp_path: Path, storage: Storage) -> Settings:
    # The app's own worker runs the sources here, as in production.
    return make_settings(
        tmp_path / "data",
        sync_private_networks=True,
        sync_delay_s=0,
        sync_folder_roots=[tmp_path / "partages"],
        **storage.settings(),
    )


def bearer(client: TestClient, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, name)}"}


def wait_for_run(client: TestClient, source_id: int, headers: dict, after: int = 0) -> dict:
    """The source once a run newer than run ``after`` has finished."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/sources/{source_id}", headers=headers).json()
        last = body["last_run"]
        if last and last["run_id"] > after and last["finished_at"] and not body["running"]:
            return body
        time.sleep(0.2)
    raise AssertionError(f"source {source_id} never finished a run")


def test_owners_manage_sources_through_the_api(
    client: TestClient, site: StaticSite, elsewhere: StaticSite, tmp_path: Path
) -> None:
    add_corpus(client, "mairie")
    add_user(client, "agent", Role.agent, corpora=("mairie",))
    add_user(client, "voisin", Role.agent)
    owner, stranger = bearer(client, "agent"), bearer(client, "voisin")
    town_hall_site(site, elsewhere)

    added = client.post(
        "/api/v1/corpora/mairie/sources",
        headers=owner,
        json={"kind": "website", "location": f"{site.url}/", "every": "6h"},
    )
    assert added.status_code == 201, added.text
    source = added.json()
    assert (source["kind"], source["every_s"], source["every"]) == ("website", 21600, "6 h")

    # The worker runs a new source at once: its initial import.
    done = wait_for_run(client, source["id"], owner)
    first = done["last_run"]
    assert (first["status"], first["trigger"], first["added"], first["failed"]) == (
        "done",
        "schedule",
        7,
        3,
    )
    messages = {f["item"].removeprefix(site.url): f["message"] for f in first["failures"]}
    assert messages["/ailleurs.html"].startswith("la page redirige vers un autre site")
    assert "connexion" in messages["/espace-agents.html"]
    assert first["duration_s"] >= 0 and done["documents"] == 7
    finished = first["finished_at"].replace("Z", "+00:00")
    assert done["next_run_at"].startswith(finished[:13]) or done["next_run_at"] > finished

    # Asked for again: the run is recorded as requested.
    asked = client.post(f"/api/v1/sources/{source['id']}/sync", headers=owner, json={})
    assert asked.status_code == 202
    again = wait_for_run(client, source["id"], owner, after=first["run_id"])["last_run"]
    assert (again["trigger"], again["unchanged"], again["added"]) == ("request", 7, 0)

    listed = client.get("/api/v1/corpora/mairie/sources", headers=owner).json()["sources"]
    assert [s["id"] for s in listed] == [source["id"]]
    assert client.get(f"/api/v1/sources/{source['id']}", headers=stranger).status_code == 403
    assert client.get(f"/api/v1/sources/{source['id']}").status_code == 401
    assert client.get("/api/v1/sources/999", headers=owner).status_code == 404
    assert client.delete(f"/api/v1/sources/{source['id']}", headers=stranger).status_code == 403

    removed = client.delete(f"/api/v1/sources/{source['id']}", headers=owner)
    assert removed.status_code == 204
    documents = client.get("/api/v1/corpora/mairie/documents", headers=owner).json()["documents"]
    assert len(documents) == 7, "a removed source's documents stay"

    with transaction(state(client).sessions) as session:
        events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
    for event in ("source_added", "source_synced", "source_sync_requested", "source_removed"):
        assert event in events


def test_bad_sources_are_refused_with_a_clear_message(client: TestClient, tmp_path: Path) -> None:
    add_corpus(client, "mairie")
    add_user(client, "agent", Role.agent, corpora=("mairie",))
    owner = bearer(client, "agent")
    (tmp_path / "partages" / "mairie").mkdir(parents=True)

    def add(body: dict) -> tuple[int, dict]:
        response = client.post("/api/v1/corpora/mairie/sources", headers=owner, json=body)
        return response.status_code, response.json()

    status, body = add({"kind": "folder", "location": "/etc"})
    assert status == 400 and body["error"]["code"] == "folder_not_allowed"
    assert "GUICHET_SYNC_FOLDER_ROOTS" in body["error"]["message"]
    status, body = add({"kind": "folder", "location": str(tmp_path / "partages" / "mairie")})
    assert status == 201, body
    status, body = add({"kind": "website", "location": "ftp://exemple.fr/"})
    assert status == 400 and body["error"]["code"] == "invalid_location"
    status, body = add({"kind": "website", "location": "https://exemple.fr/", "every": "5s"})
    assert status == 400 and body["error"]["message"].startswith("Intervalle invalide")
    status, body = add(
        {"kind": "website", "location": "https://exemple.fr/", "username": "a", "password": "b"}
    )
    assert status == 400 and body["error"]["code"] == "credentials_not_used"


def test_the_documents_page_shows_and_manages_sources(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie", title="Mairie de Val-d'Orme")
    add_user(client, "agent", Role.agent, corpora=("mairie",))
    town_hall_site(site, elsewhere)
    csrf = sign_in(client, "agent")
    headers = {**FROM_PAGE, "X-CSRF-Token": csrf}

    empty = client.get("/corpora/mairie/documents")
    assert empty.template.name == "documents.html"  # type: ignore[attr-defined]
    assert empty.context["sources"] == []  # type: ignore[attr-defined]
    assert 'id="sources-title"' in empty.text and 'action="/corpora/mairie/sources"' in empty.text

    refused = client.post(
        "/corpora/mairie/sources",
        data={"kind": "website", "location": "pas une adresse"},
        headers=headers,
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text and "Adresse invalide" in refused.text
    assert 'value="pas une adresse"' in refused.text, "what was typed is kept"

    added = client.post(
        "/corpora/mairie/sources",
        data={"kind": "website", "location": f"{site.url}/", "every": "1j"},
        headers=headers,
        follow_redirects=False,
    )
    assert added.status_code == 303
    source_id = int(added.headers["location"].rsplit("source-", 1)[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = client.get("/corpora/mairie/documents")
        view = shown.context["sources"][0]  # type: ignore[attr-defined]
        if view.last_run and view.last_run.finished_at and not view.running:
            break
        time.sleep(0.2)
    assert "7 ajouté(s), 0 mis à jour, 0 inchangé(s), 0 retiré(s), 3 en échec" in shown.text
    assert "la page redirige vers un autre site" in shown.text
    assert "toutes les 1 j" in shown.text and "Prochaine :" in shown.text

    # The list refreshes itself through htmx while a run goes on.
    partial = client.get("/corpora/mairie/sources", headers={"HX-Request": "true"})
    assert partial.template.name == "_sources_list.html"  # type: ignore[attr-defined]

    synced = client.post(f"/sources/{source_id}/sync", headers=headers, follow_redirects=False)
    assert synced.status_code == 303
    gone = client.post(f"/sources/{source_id}/delete", headers=headers, follow_redirects=False)
    assert gone.status_code == 303
    assert client.get("/corpora/mairie/documents").context["sources"] == []  # type: ignore[attr-defined]


def test_one_run_per_source_at_a_time(client: TestClient, tmp_path: Path) -> None:
    app = state(client)
    app.sync_worker.stop()  # this test runs the source itself
    add_corpus(client, "svt", kind="course")
    root = tmp_path / "partages" / "svt"
    root.mkdir(parents=True)
    (root / "cours.md").write_text("# Cours\n\nLes cellules se divisent.", encoding="utf-8")
    source = new_source(client, "svt", SourceKind.folder, str(root))

    # Another host holds the lease: this one stays out until it expires.
    with transaction(app.sessions) as session:
        assert take_lease(
            session=session, source_id=source, owner="host-b", ttl=timedelta(seconds=1)
        )
    with pytest.raises(SyncBusy):
        run(client, source)
    time.sleep(1.1)  # until the lease above expires
    assert run(client, source).status == "done"

    # Two runs started together: exactly one runs.
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            outcomes.append(run(client, source).status)
        except SyncBusy:
            outcomes.append("busy")

    (root / "cours.md").write_text("# Cours\n\nLes cellules se divisent par mitose.", "utf-8")
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) in (["busy", "done"], ["done", "done"])
    # (Both may finish when the first ends before the second starts: never both at once.)
