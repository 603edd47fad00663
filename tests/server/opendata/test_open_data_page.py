"""Owners choose on their documents page whether verified answers are published."""

# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import Role
from corpora.repository import get_corpus
from database import transaction
from server.opendata.service import is_open_data
from tests.helpers import state
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    FROM_PAGE,
    add_user,
    secure_client,
    security_options,
    sign_in,
    standard_corpora,
)


def _published(client: TestClient) -> tuple[bool, str | None]:
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        return is_open_data(session=session, corpus=corpus), corpus.licence


def test_owner_publishes_then_withdraws(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "agent", Role.agent, corpora=("mairie",))
    sign_in(secure_client, "agent")
    page = secure_client.get("/corpora/mairie/documents")
    assert "Les réponses vérifiées de ce recueil ne sont pas publiées." in page.text

    missing = secure_client.post(
        "/corpora/mairie/open-data", data={"licence": "", "publish": "true"}, headers=FROM_PAGE
    )
    assert missing.status_code == 422
    assert "Indiquez une licence pour publier les réponses vérifiées." in missing.text
    assert 'aria-invalid="true"' in missing.text
    assert _published(secure_client) == (False, None)

    saved = secure_client.post(
        "/corpora/mairie/open-data",
        data={"licence": "Licence Ouverte 2.0", "publish": "true"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert _published(secure_client) == (True, "Licence Ouverte 2.0")
    page = secure_client.get("/corpora/mairie/documents")
    assert "sont publiées sous licence Licence Ouverte 2.0." in page.text
    assert "/transparence/export/mairie/verified.jsonl" in page.text
    assert secure_client.get("/transparence/export/mairie/verified.jsonl").status_code == 200

    withdrawn = secure_client.post(
        "/corpora/mairie/open-data",
        data={"licence": "Licence Ouverte 2.0"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert _published(secure_client) == (False, "Licence Ouverte 2.0")
    assert secure_client.get("/transparence/export/mairie/verified.jsonl").status_code == 404
