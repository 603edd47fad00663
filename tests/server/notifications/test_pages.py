"""Addresses and notification settings through the account page, the admin page, the API
and the shell; a citizen's reply address from the question to the e-mail, never logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accounts import audit
from accounts.models import Frequency, Role, User
from accounts.users import get_user
from database import transaction
from server.app import create_app
from server.cli import app as cli
from server.notifications.models import ReplyAddress
from server.settings import Settings
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, state
from tests.server.accounts_fixtures import FROM_PAGE, add_user, sign_in, token_for
from tests.smtp import SmtpServer
from tests.storage import Storage, settings_env

CITIZEN = "jeanne.martin@example.org"


@pytest.fixture
def mail_settings(tmp_path: Path, storage: Storage, smtp: SmtpServer) -> Settings:
    """An instance that sends e-mail through the test server, a round every 0.1 s."""
    return make_settings(
        tmp_path / "data",
        **storage.settings(),
        **smtp.settings(),
        notify_interval_s=0.1,
        notify_default="immediate",
        public_url="https://guichet.example.fr",
    )


@pytest.fixture
def mail_client(mail_settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    app = create_app(mail_settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as test_client:
        yield test_client


def _user(client: TestClient, name: str) -> User:
    with state(client).sessions() as session:
        found = get_user(session=session, name=name)
        assert found is not None
        return found


def test_the_account_page_sets_the_address_and_a_typo_changes_nothing(
    mail_client: TestClient,
) -> None:
    add_corpus(mail_client, "mairie")
    add_user(mail_client, "agent.leroy", Role.agent, corpora=("mairie",))
    csrf = sign_in(mail_client, "agent.leroy")
    page = mail_client.get("/account")
    assert 'id="notifications"' in page.text and 'name="notify"' in page.text

    typo = mail_client.post(
        "/account/notifications",
        data={"email": "leroy@mairie", "notify": "daily", "csrf_token": csrf},
        headers=FROM_PAGE,
    )
    assert typo.status_code == 422
    assert "Adresse électronique invalide" in typo.text
    assert 'value="leroy@mairie"' in typo.text  # what was typed stays in the form
    assert _user(mail_client, "agent.leroy").notify is None

    saved = mail_client.post(
        "/account/notifications",
        data={"email": " leroy@mairie.example.fr ", "notify": "daily", "language": "en"},
        headers={**FROM_PAGE, "X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    user = _user(mail_client, "agent.leroy")
    assert (user.email, user.notify, user.language) == (
        "leroy@mairie.example.fr",
        Frequency.daily,
        "en",
    )
    assert user.notify_replies is False  # an unticked box
    with state(mail_client).sessions() as session:
        [event] = audit.recent(session=session, event="contact_changed")
        assert "leroy" not in str(event.detail)


def test_the_api_reads_and_sets_ones_notifications(mail_client: TestClient) -> None:
    add_user(mail_client, "eleve.tom", Role.student)
    headers = {"Authorization": f"Bearer {token_for(mail_client, 'eleve.tom')}"}
    before = mail_client.get("/api/v1/me/notifications", headers=headers).json()
    assert before["email_enabled"] is True and before["notify_default"] == "immediate"
    bad = mail_client.put(
        "/api/v1/me/notifications", json={"email": "tom at lycee"}, headers=headers
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("Adresse électronique invalide")
    done = mail_client.put(
        "/api/v1/me/notifications",
        json={"email": "tom@lycee.example.fr", "notify_replies": False},
        headers=headers,
    )
    assert done.json()["email"] == "tom@lycee.example.fr"
    assert done.json()["notify_replies"] is False


def test_the_admin_sets_addresses_and_sees_the_outbox(
    mail_client: TestClient, smtp: SmtpServer
) -> None:
    add_user(mail_client, "admin", Role.admin)
    target = add_user(mail_client, "prof.roux", Role.teacher)
    csrf = sign_in(mail_client, "admin")
    headers = {**FROM_PAGE, "X-CSRF-Token": csrf}
    wrong = mail_client.post(
        f"/admin/users/{target}/email", data={"email": "roux@"}, headers=headers
    )
    assert wrong.status_code == 422 and 'value="roux@"' in wrong.text
    mail_client.post(
        f"/admin/users/{target}/email", data={"email": "roux@lycee.example.fr"}, headers=headers
    )
    assert _user(mail_client, "prof.roux").email == "roux@lycee.example.fr"
    created = mail_client.post(
        "/admin/users",
        data={"name": "agent.nadia", "role": "agent", "email": "nadia@mairie.example.fr"},
        headers=headers,
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert _user(mail_client, "agent.nadia").email == "nadia@mairie.example.fr"

    smtp.refused.add("refus@example.org")
    runner = CliRunner()
    env = _smtp_env(settings_env(state(mail_client).settings), smtp)
    sent = runner.invoke(cli, ["notify", "test", "essai@example.org"], env=env)
    assert sent.exit_code == 0, sent.output
    said = " ".join(sent.output.split())
    assert "Message d'essai remis au serveur 127.0.0.1 pour e•••@e•••.org." in said
    [test_mail] = smtp.messages("essai@example.org")
    assert test_mail.subject == "[Guichet] Message d'essai"
    refused = runner.invoke(cli, ["notify", "test", "refus@example.org"], env=env)
    said = " ".join(refused.output.split())  # the console wraps long lines
    assert refused.exit_code == 1 and "recipient refused (550)" in said

    page = mail_client.get("/admin")
    assert 'id="outbox"' in page.text and "127.0.0.1" in page.text
    assert "e•••@e•••.org" in page.text and "recipient refused (550)" in page.text
    assert "essai@example.org" not in page.text and "refus@example.org" not in page.text
    api = mail_client.get("/api/v1/admin/outbox").json()
    assert api["counts"]["sent"] >= 1 and api["counts"]["failed"] == 1


def _smtp_env(env: dict[str, str], smtp: SmtpServer) -> dict[str, str]:
    return {
        **env,
        "GUICHET_SMTP_HOST": "127.0.0.1",
        "GUICHET_SMTP_PORT": str(smtp.port),
        "GUICHET_SMTP_SECURITY": "none",
        "GUICHET_SMTP_SENDER": "guichet@mairie.test",
    }


def test_users_add_takes_an_email(settings: Settings) -> None:
    env = settings_env(settings)
    runner = CliRunner()
    made = runner.invoke(
        cli, ["users", "add", "agent.paul", "--role", "agent", "--email", "paul@x.fr"], env=env
    )
    assert made.exit_code == 0, made.output
    bad = runner.invoke(
        cli, ["users", "add", "agent.luc", "--role", "agent", "--email", "luc@"], env=env
    )
    assert bad.exit_code == 1 and "Adresse électronique invalide" in " ".join(bad.output.split())
    unset = runner.invoke(cli, ["notify", "test", "a@example.org"], env=env)
    assert unset.exit_code == 1 and "aucun serveur SMTP" in unset.output


def test_a_citizen_gets_the_reply_at_the_address_left_never_logged_nor_shown_in_full(
    mail_client: TestClient, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_corpus(mail_client, "mairie", review="flagged", title="Mairie de Val-d'Orme")
    add_user(mail_client, "agent.leroy", Role.agent, corpora=("mairie",))
    with transaction(state(mail_client).sessions) as session:
        agent = get_user(session=session, name="agent.leroy")
        assert agent is not None
        agent.email, agent.notify = "leroy@mairie.example.fr", Frequency.immediate

    citizen = TestClient(mail_client.app)  # another browser, no account
    asked = citizen.post("/api/v1/ask", json={"corpus": "mairie", "question": "Horaires ?"})
    answer_id = asked.json()["answer_id"]
    assert asked.json()["status"] == "declined"
    typo = citizen.post(f"/api/v1/answers/{answer_id}/human", json={"email": "jeanne@"})
    assert typo.status_code == 400  # nothing queued on a typo
    with state(mail_client).sessions() as session:
        assert session.get(ReplyAddress, answer_id) is None
    human = citizen.post(f"/api/v1/answers/{answer_id}/human", json={"email": CITIZEN})
    assert human.json()["status"] == "pending_review"

    [announced] = smtp.wait_for("leroy@mairie.example.fr")
    assert CITIZEN not in announced.text + announced.html
    agent_api = {"Authorization": f"Bearer {token_for(mail_client, 'agent.leroy')}"}
    [item] = mail_client.get("/api/v1/reviews", headers=agent_api).json()["reviews"]
    assert item["reply_by_email"] == "j•••@e•••.org"
    page = mail_client.get(f"/relecture/{item['id']}", headers=agent_api)
    assert CITIZEN not in page.text
    approved = mail_client.post(
        f"/api/v1/reviews/{item['id']}/approve",
        json={"version": item["version"], "answer": "La mairie ouvre de 9 h à 17 h."},
        headers=agent_api,
    )
    assert approved.status_code == 200

    [reply] = smtp.wait_for(CITIZEN)
    assert "La mairie ouvre de 9 h à 17 h." in reply.text
    assert reply.subject == "[Guichet] La réponse à votre question"
    with state(mail_client).sessions() as session:
        assert session.get(ReplyAddress, answer_id) is None
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # the test server's
    assert ours and all(CITIZEN not in r.getMessage() for r in ours)
