"""A verified answer stops being reused as soon as a document it cites changes or goes, on
every path that changes documents: the upload API and page, `guichet ingest`, and deletion
by the API and the page (all through server/documents/lifecycle.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accounts.models import Role
from corpora.models import Document
from database import transaction
from review.models import VerifiedAnswer
from server.cli import app as guichet
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state
from tests.server.accounts_fixtures import FROM_PAGE, add_user, sign_in, token_for
from tests.server.reviews.factory import CARTE, Person, ask, pending_review, person
from tests.storage import settings_env

ASKED = "Quels documents faut-il fournir pour refaire une carte d'identité ?"
PARAPHRASE = "Pour refaire ma carte d'identité, quels documents faut-il fournir ?"
CHANGED = CARTE.replace("moins de 6 mois", "moins de 3 mois")


@pytest.fixture
def verified(client: TestClient, fake_engine: FakeEngine) -> tuple[int, int, Person, Person]:
    """(verified answer id, the document it cites, the corpus's agent, a citizen), the
    paraphrase being served the verified answer."""
    add_corpus(client, "mairie", review="always", title="Mairie de Test")
    document = add_document(client, "mairie", "carte-identite.md", CARTE)
    agent_id = add_user(client, "agent", Role.agent, corpora=("mairie",))
    agent = Person(agent_id, token_for(client, "agent"))
    citizen = person(client, "habitant", "student")
    fake_engine.reply = lambda r: "Une photo d'identité de moins de 6 mois et un justificatif [1]."
    review = pending_review(client, agent, ask(client, citizen, "mairie", ASKED)["answer_id"])
    approved = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=agent.headers,
        json={"version": review["version"], "save_verified": True},
    )
    assert approved.status_code == 200, approved.text
    assert _reused(client, citizen), "the paraphrase should get the verified answer first"
    return approved.json()["verified_answer_id"], document, agent, citizen


def _reused(client: TestClient, citizen: Person) -> bool:
    return ask(client, citizen, "mairie", PARAPHRASE)["verified"] is not None


def _withdrawal(client: TestClient, verified_id: int) -> str | None:
    """Why the verified answer was withdrawn (None while it is active)."""
    with transaction(state(client).sessions) as session:
        row = session.get_one(VerifiedAnswer, verified_id)
        return None if row.active else row.withdrawn_reason


def _wait_for_version(client: TestClient, document_id: int, version: int) -> None:
    """The app's worker indexes uploads in the background."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with transaction(state(client).sessions) as session:
            if session.get_one(Document, document_id).indexed_version == version:
                return
        time.sleep(0.2)
    raise AssertionError(f"version {version} of document {document_id} was never indexed")


def test_new_version_uploaded_through_the_api(client: TestClient, verified: tuple) -> None:
    verified_id, document, agent, citizen = verified
    uploaded = client.post(
        "/api/v1/corpora/mairie/documents",
        headers=agent.headers,
        files=[("files", ("carte-identite.md", CHANGED.encode(), "text/markdown"))],
    )
    assert uploaded.status_code == 202, uploaded.text
    _wait_for_version(client, document, 2)
    assert _withdrawal(client, verified_id) == "document_updated"
    assert not _reused(client, citizen)


def test_new_version_uploaded_through_the_page(client: TestClient, verified: tuple) -> None:
    verified_id, document, _, citizen = verified
    sign_in(client, "agent")
    uploaded = client.post(
        "/corpora/mairie/documents",
        headers=FROM_PAGE,
        files=[("files", ("carte-identite.md", CHANGED.encode(), "text/markdown"))],
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    _wait_for_version(client, document, 2)
    assert _withdrawal(client, verified_id) == "document_updated"
    assert not _reused(client, citizen)


def test_new_version_ingested_from_the_command_line(
    client: TestClient, verified: tuple, settings: Settings, tmp_path: Path
) -> None:
    verified_id, document, _, citizen = verified
    changed = tmp_path / "carte-identite.md"
    changed.write_text(CHANGED, encoding="utf-8")
    done = CliRunner().invoke(
        guichet, ["ingest", str(changed), "--corpus", "mairie"], env=settings_env(settings)
    )
    assert done.exit_code == 0, done.output
    with transaction(state(client).sessions) as session:
        assert session.get_one(Document, document).indexed_version == 2
    assert _withdrawal(client, verified_id) == "document_updated"
    assert not _reused(client, citizen)


def test_document_deleted_through_the_api(client: TestClient, verified: tuple) -> None:
    verified_id, document, agent, citizen = verified
    deleted = client.delete(f"/api/v1/documents/{document}", headers=agent.headers)
    assert deleted.status_code == 204, deleted.text
    assert _withdrawal(client, verified_id) == "document_deleted"
    assert not _reused(client, citizen)


def test_document_deleted_through_the_page(client: TestClient, verified: tuple) -> None:
    verified_id, document, _, citizen = verified
    sign_in(client, "agent")
    asked = client.post(f"/documents/{document}/delete", headers=FROM_PAGE, follow_redirects=False)
    # Without the confirmation, nothing goes: the page asks first.
    assert asked.headers["location"] == f"/documents/{document}/delete"
    assert _withdrawal(client, verified_id) is None
    confirm = client.get(f"/documents/{document}/delete")
    assert confirm.template.name == "document_delete.html"  # type: ignore[attr-defined]
    assert 'name="confirm" value="yes"' in confirm.text
    deleted = client.post(
        f"/documents/{document}/delete",
        headers=FROM_PAGE,
        data={"confirm": "yes"},
        follow_redirects=False,
    )
    assert deleted.status_code == 303, deleted.text
    listing = client.get(deleted.headers["location"])
    assert "est supprimé. Ses versions restent" in listing.text
    assert _withdrawal(client, verified_id) == "document_deleted"
    assert not _reused(client, citizen)
