"""Open data: verified answers exported from one instance and imported into another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from corpora.repository import get_corpus
from database import transaction
from review.models import Answer, VerifiedAnswer
from review.verified import find_verified
from server.app import create_app
from server.cli.opendata import export_app, import_app
from server.opendata.service import (
    OpenDataError,
    export_verified,
    import_verified,
    parse_lines,
    set_open_data,
)
from server.settings import Settings
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state
from tests.server.reviews.factory import CARTE, Person, ask, pending_review, person
from tests.storage import Storage, new_storage, settings_env

ASKED = "Quels documents faut-il fournir pour refaire une carte d'identité ?"
PARAPHRASE = "Pour refaire ma carte d'identité, quels documents faut-il fournir ?"
PHONE = "06 12 34 56 78"
WITH_PHONE = f"Je suis joignable au {PHONE} : quelles pièces pour refaire ma carte d'identité ?"
EMAIL = "jeanne.martin@example.org"
LICENCE = "Licence Ouverte 2.0"


@pytest.fixture
def second_storage(request: pytest.FixtureRequest) -> Storage:
    """Storage of the second instance, apart from the first's."""
    return new_storage(request)


@contextmanager
def running(settings: Settings, engine: FakeEngine) -> Iterator[TestClient]:
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=engine.transport()))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    with running(settings, fake_engine) as test_client:
        yield test_client


def approve_verified(client: TestClient, engine: FakeEngine, question: str) -> dict:
    """Ask on « mairie », then have its agent approve the answer as a verified one."""
    engine.reply = lambda request: "Une photo d'identité de moins de 6 mois et un justificatif [1]."
    citizen = person(client, f"habitant-{len(question)}", "student")
    asked = ask(client, citizen, "mairie", question)
    agent = AGENTS[id(client)]
    review = pending_review(client, agent, asked["answer_id"])
    approved = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=agent.headers,
        json={"version": review["version"], "save_verified": True},
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


AGENTS: dict[int, Person] = {}


def source_instance(client: TestClient, engine: FakeEngine) -> None:
    """« mairie », open data, with two verified answers: one clean, one asked with a phone."""
    add_corpus(client, "mairie", review="always", title="Mairie de Test")
    add_document(client, "mairie", "carte-identite.md", CARTE)
    AGENTS[id(client)] = person(client, "agent", "agent", "mairie", "owner")
    approve_verified(client, engine, ASKED)
    approve_verified(client, engine, WITH_PHONE)
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        set_open_data(session=session, corpus=corpus, allowed=True, licence=LICENCE)


def test_export_then_import_round_trips_with_provenance(
    tmp_path: Path, storage: Storage, second_storage: Storage
) -> None:
    engine = FakeEngine()
    first = make_settings(tmp_path / "a", **storage.settings())
    second = make_settings(tmp_path / "b", **second_storage.settings())
    export = tmp_path / "mairie.jsonl"
    sheet = tmp_path / "datasheet.md"

    with running(first, engine) as client:
        source_instance(client, engine)
        downloaded = client.get("/transparence/export/mairie/verified.jsonl")
        with state(client).sessions() as session:
            flagged = session.scalars(select(Answer).where(Answer.masked_personal_data)).all()
            assert len(flagged) == 1 and PHONE not in flagged[0].question
            originals = session.scalars(select(VerifiedAnswer)).all()
            assert len(originals) == 2
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("application/x-ndjson")
    assert downloaded.headers["x-guichet-refused"] == "1"

    runner = CliRunner()
    result = runner.invoke(
        export_app,
        [
            "verified",
            "--corpus",
            "mairie",
            "--format",
            "jsonl",
            "-o",
            str(export),
            "--datasheet",
            str(sheet),
        ],
        env=settings_env(first),
    )
    assert result.exit_code == 0, result.output
    lines = export.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["question"] == ASKED
    assert record["approved_by_role"] == "agent"
    assert record["licence"] == LICENCE
    assert record["sources"][0]["title"]
    assert record["sources"][0]["version"] == 1
    assert record["sources"][0]["url"].endswith(
        f"/documents/{originals[0].citations[0]['document_id']}"
    )
    assert record["provenance"]["original_id"] == originals[0].id
    assert "agent" not in json.dumps(record["provenance"])
    # The item asked with a phone number never leaves, not even masked.
    assert PHONE not in export.read_text() and "masqué" not in export.read_text()
    assert [json.loads(x)["question"] for x in downloaded.text.splitlines()] == [ASKED]
    assert LICENCE in sheet.read_text() and "## " in sheet.read_text()

    with running(second, engine) as client:
        add_corpus(client, "etat-civil", review="flagged", title="État civil")
        local_document = add_document(client, "etat-civil", "carte-identite.md", CARTE)
    result = runner.invoke(
        import_app, ["verified", str(export), "--corpus", "etat-civil"], env=settings_env(second)
    )
    assert result.exit_code == 0, result.output

    with running(second, engine) as client:
        app = state(client)
        with app.sessions() as session:
            imported = session.scalars(select(VerifiedAnswer)).all()
            assert len(imported) == 1
            verified = imported[0]
            assert (verified.question, verified.active) == (ASKED, True)
            assert verified.approved_by is None and verified.approved_by_role == "agent"
            assert verified.approved_at == originals[0].approved_at
            assert verified.provenance is not None
            assert verified.provenance["original_id"] == originals[0].id
            assert verified.provenance["source_instance"] == record["provenance"]["instance"]
            assert verified.provenance["licence"] == LICENCE
            assert [s.document_id for s in verified.sources] == [local_document]
            assert verified.citations[0]["document_id"] == local_document
            corpus = get_corpus(session=session, name="etat-civil")
            assert corpus is not None
            match = find_verified(
                session=session, index=app.index, corpus=corpus, question=PARAPHRASE
            )
            assert match is not None and match.verified.id == verified.id
            # Imported answers are not re-published as this instance's own.
            set_open_data(session=session, corpus=corpus, allowed=True, licence=LICENCE)
            assert export_verified(session=session, corpus=corpus, instance_url="x").records == []

    again = runner.invoke(
        import_app, ["verified", str(export), "--corpus", "etat-civil"], env=settings_env(second)
    )
    assert again.exit_code == 0
    with running(second, engine) as client, state(client).sessions() as session:
        assert len(session.scalars(select(VerifiedAnswer)).all()) == 1


def test_personal_data_in_a_verified_text_is_refused(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    add_corpus(client, "mairie", review="always", title="Mairie de Test")
    document = add_document(client, "mairie", "carte-identite.md", CARTE)
    citation = {"n": 1, "document_id": document, "version": 1, "title": "Carte", "excerpt": "x"}
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        set_open_data(session=session, corpus=corpus, allowed=True, licence="CC BY 4.0")
        for text in (f"Écrivez à {EMAIL} [1].", "Une photo suffit [1]."):
            session.add(
                VerifiedAnswer(
                    corpus_id=corpus.id,
                    question=ASKED,
                    text=text,
                    citations=[citation],
                    approved_by_role="agent",
                )
            )
        session.flush()
        result = export_verified(session=session, corpus=corpus, instance_url="https://g.test")
    assert [r.answer for r in result.records] == ["Une photo suffit [1]."]
    assert dict(result.refused) == {"personal_data_found": 1}
    body = client.get("/transparence/export/mairie/verified.jsonl").text
    assert EMAIL not in body and body.count("\n") == 1


def test_import_refuses_personal_data_and_unknown_sources(client: TestClient) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    add_document(client, "mairie", "carte-identite.md", CARTE)
    base = {
        "question": ASKED,
        "answer": "Une photo [1].",
        "sources": [
            {
                "n": 1,
                "title": "Carte nationale d'identité",
                "version": 3,
                "url": "https://autre.test/documents/9",
            }
        ],
        "approved_by_role": "agent",
        "approved_at": "2026-01-02T10:00:00+00:00",
        "licence": LICENCE,
        "provenance": {
            "instance": "https://autre.test",
            "original_id": 1,
            "corpus": "m",
            "exported_at": "2026-01-03T10:00:00+00:00",
        },
    }
    lines = [
        json.dumps(base),
        json.dumps(
            {
                **base,
                "answer": f"Appelez le {PHONE} [1].",
                "provenance": {**base["provenance"], "original_id": 2},
            }
        ),
        json.dumps(
            {
                **base,
                "sources": [{**base["sources"][0], "title": "Inconnu"}],
                "provenance": {**base["provenance"], "original_id": 3},
            }
        ),
        "{not json",
        json.dumps(base),
    ]
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        result = import_verified(session=session, corpus=corpus, records=parse_lines(lines))
        assert len(result.imported) == 1
        assert dict(result.skipped) == {
            "personal_data_found": 1,
            "sources_not_found": 1,
            "invalid_record": 1,
            "already_imported": 1,
        }
        stored = session.scalars(select(VerifiedAnswer)).all()
        assert [v.text for v in stored] == ["Une photo [1]."]


def test_nothing_is_published_without_the_owners_consent(
    tmp_path: Path, client: TestClient
) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    response = client.get("/transparence/export/mairie/verified.jsonl")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_open_data"
    assert client.get("/transparence/export/inconnu/datasheet.md").status_code == 404
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        with pytest.raises(OpenDataError):
            set_open_data(session=session, corpus=corpus, allowed=True)  # no licence
    result = CliRunner().invoke(
        export_app, ["verified", "--corpus", "mairie"], env=settings_env(state(client).settings)
    )
    assert result.exit_code == 1


def test_cli_allows_then_serves_the_datasheet(client: TestClient) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    env = settings_env(state(client).settings)
    allowed = CliRunner().invoke(
        export_app, ["allow", "--corpus", "mairie", "--licence", "CC BY 4.0"], env=env
    )
    assert allowed.exit_code == 0, allowed.output
    sheet = client.get("/transparence/export/mairie/datasheet.md")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/markdown")
    assert sheet.text.startswith("# ") and "CC BY 4.0" in sheet.text
    denied = CliRunner().invoke(export_app, ["allow", "--corpus", "mairie", "--deny"], env=env)
    assert denied.exit_code == 0
    assert client.get("/transparence/export/mairie/datasheet.md").status_code == 404


def test_download_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    jsonl = paths["/transparence/export/{corpus}/verified.jsonl"]["get"]["responses"]
    assert "application/x-ndjson" in jsonl["200"]["content"]
    assert "404" in jsonl
    assert "/transparence" not in paths
