"""Hardening (#16, items 6 and 8 of the probe): what people type is normalised in one
place (corpora/hygiene.py). Blank questions are refused with 422 and a clear message;
control and bidirectional-override characters never reach storage; names are matched
whole, so a trailing newline makes no look-alike corpus or account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from accounts.errors import AccountError
from accounts.models import Role
from accounts.users import create_user
from corpora.hygiene import clean_line, clean_text, is_blank
from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import CorpusError, create_corpus
from corpora.uploads import safe_filename
from database import transaction
from review.models import Answer
from server.cli import app
from server.settings import Settings
from tests.helpers import add_corpus, add_document, state
from tests.server.accounts_fixtures import FROM_PAGE, csrf_of
from tests.storage import settings_env

BLANKS = ["   \n\t", "\u200b\u200b", "\u202e", "\x00\x07\x1b", "\ufeff \u2060"]


def test_text_hygiene_removes_controls_and_bidi_overrides() -> None:
    assert clean_text("Quel\x00 prix\x07 ?\x1b[31m") == "Quel prix ?[31m"
    assert clean_text("e\u0301tat\u202e civil\u2066") == "état civil"  # NFC, no override
    assert clean_text("ligne 1\r\nligne 2\tfin") == "ligne 1\nligne 2\tfin"
    assert clean_line("  carte \n d'identité\u200b ") == "carte d'identité"
    assert all(is_blank(value) for value in BLANKS)
    assert safe_filename("facture\u202etxt.exe") == "facturetxt.exe"
    assert safe_filename("a\x00b\x1b.md") == "ab.md"


@pytest.mark.parametrize("blank", BLANKS)
def test_blank_question_is_refused_with_422_and_a_clear_message(
    client: TestClient, blank: str
) -> None:
    add_corpus(client, "hygiene-mairie")
    body = {"corpus": "hygiene-mairie", "question": blank}
    for path in ("/api/v1/ask", "/api/v1/ask/stream"):
        refused = client.post(path, json=body)
        assert refused.status_code == 422, (path, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "blank_question"
        assert error["message"].startswith("La question est vide")
    csrf_of(client, "/")
    page = client.post("/chat/ask", data=body, headers={**FROM_PAGE, "HX-Request": "true"})
    assert page.status_code == 422 and "La question est vide" in page.text
    with state(client).sessions() as session:
        assert session.scalars(select(Answer)).first() is None  # nothing stored


def test_control_and_bidi_characters_never_reach_the_stored_question(
    client: TestClient,
) -> None:
    add_corpus(client, "hygiene-mairie", review="never")
    add_document(client, "hygiene-mairie", "carte.md", "# Carte\n\nUne photo récente.")
    asked = client.post(
        "/api/v1/ask",
        json={"corpus": "hygiene-mairie", "question": "Quelle\x00 photo\u202e faut-il\x1b ?"},
    )
    assert asked.status_code == 200, asked.text
    with state(client).sessions() as session:
        stored = session.get_one(Answer, asked.json()["answer_id"])
        assert stored.question == "Quelle photo faut-il ?"


def test_names_with_a_trailing_newline_are_refused(client: TestClient, settings: Settings) -> None:
    with transaction(state(client).sessions) as session:
        with pytest.raises(CorpusError):
            create_corpus(
                session=session,
                name="demo-procedures\n",
                title="Look-alike",
                kind=CorpusKind.procedures,
                review_policy=ReviewPolicy.never,
            )
        with pytest.raises(AccountError):
            create_user(session=session, name="agentA\n", role=Role.agent)
    runner = CliRunner()
    env = settings_env(settings)
    made = runner.invoke(
        app, ["corpus", "create", "demo\n", "--kind", "procedures", "--review", "never"], env=env
    )
    assert made.exit_code == 1, made.output
    added = runner.invoke(app, ["users", "add", "agentA\n", "--role", "agent"], env=env)
    assert added.exit_code == 1, added.output
