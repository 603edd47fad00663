"""The point of syncing: when a fee changes on the town hall's site, a citizen asking
Guichet after the next sync gets the new fee, cited from that page (the real answer
pipeline behind ``/api/v1/ask``, answers composed from the documents themselves)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from corpora.sources.models import SourceKind
from server.app import create_app
from server.settings import Settings
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus
from tests.server.sources.helpers import PASSEPORT, new_source, run, town_hall_site
from tests.sites import StaticSite, page
from tests.storage import Storage

QUESTION = "Combien coûte le timbre fiscal d'un passeport pour un adulte ?"


@pytest.fixture
def settings(tmp_path: Path, storage: Storage) -> Settings:
    # Extractive answers: the text comes from the passages, never from the engine, so the
    # fee in the answer is the fee search served.
    return make_settings(
        tmp_path / "data",
        llm_model="smollm2-135m-instruct",
        answer_mode="extractive",
        sync_private_networks=True,
        sync_delay_s=0,
        sync_scheduler=False,
        **storage.settings(),
    )


@pytest.fixture
def client(settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as test_client:
        yield test_client


def ask(client: TestClient) -> dict:
    response = client.post("/api/v1/ask", json={"corpus": "mairie", "question": QUESTION})
    assert response.status_code == 200, response.text
    return response.json()


def test_after_the_fee_changes_on_the_site_the_answer_cites_the_new_fee(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie", review="never")
    town_hall_site(site, elsewhere, fee="86")
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)

    before = ask(client)
    assert before["status"] == "released", before
    assert "86 €" in before["answer"]
    cited = next(c for c in before["citations"] if "86 €" in c["excerpt"])
    assert cited["title"] == "Passeport"
    assert cited["url"] == f"{site.url}/passeport.html"

    site.write("passeport.html", page("Passeport", PASSEPORT.format(fee="96"), ("/",)))
    report = run(client, source)
    assert report.updated == 1

    after = ask(client)
    assert after["status"] == "released", after
    assert "96 €" in after["answer"] and "86 €" not in after["answer"]
    cited = next(c for c in after["citations"] if "96 €" in c["excerpt"])
    assert (cited["title"], cited["url"]) == ("Passeport", f"{site.url}/passeport.html")
    # On the citizen's page, the citation's title links to the page on the town's site.
    shown = client.get(f"/chat/answers/{after['answer_id']}", headers={"HX-Request": "true"})
    assert shown.status_code == 200, shown.text
    assert f'<a href="{site.url}/passeport.html" rel="noopener"><strong>Passeport</strong></a>' in (
        shown.text
    )
