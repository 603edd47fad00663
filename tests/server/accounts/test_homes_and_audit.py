# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here
"""Issue #17: where each role lands after signing in, the menu each person gets, a new
account attached to a corpus, and an audit log people can read (names, local times,
filters) that records uploads, deletions, review decisions and open-data publication."""

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import Role
from accounts.users import get_user
from corpora.repository import get_corpus, member_role
from database import transaction
from server.navigation import Navigation
from tests.helpers import add_document, state
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    FROM_PAGE,
    PASSWORD,
    add_user,
    secure_client,
    security_options,
    standard_corpora,
)

LESSON = "# Respiration\n\nLes poumons échangent le dioxygène et le dioxyde de carbone."


def _land(client: TestClient, name: str) -> str:
    client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_each_role_lands_on_its_work_and_sees_its_menu(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "root", Role.admin)
    add_user(secure_client, "prof", Role.teacher, corpora=("svt",))
    add_user(secure_client, "agent", Role.agent, corpora=("mairie",))
    add_user(secure_client, "eleve", Role.student, corpora=("histoire",))
    add_user(secure_client, "nouvel-agent", Role.agent)

    assert _land(secure_client, "root") == "/admin"
    assert secure_client.get("/admin").context["nav"] == Navigation(  # type: ignore[attr-defined]
        signed_in=True, review=True, documents=True, admin=True, waiting=0
    )
    secure_client.post("/logout", headers=FROM_PAGE)
    assert _land(secure_client, "prof") == "/relecture"
    queue = secure_client.get("/relecture")
    assert [o.corpus.name for o in queue.context["mine"]] == ["svt"]  # type: ignore[attr-defined]
    assert 'href="/corpora/svt/documents"' in queue.text
    assert 'href="/documents"' in queue.text and 'href="/admin"' not in queue.text
    assert 'id="nav-waiting"' in queue.text
    count = secure_client.get("/relecture/attente", headers={"HX-Request": "true"})
    assert count.template.name == "_nav_waiting.html"  # type: ignore[attr-defined]
    secure_client.post("/logout", headers=FROM_PAGE)
    assert _land(secure_client, "agent") == "/relecture"
    secure_client.post("/logout", headers=FROM_PAGE)
    assert _land(secure_client, "eleve") == "/?corpus=histoire"
    page = secure_client.get("/?corpus=histoire")
    assert 'href="/relecture"' not in page.text and 'href="/documents"' not in page.text
    secure_client.post("/logout", headers=FROM_PAGE)
    assert _land(secure_client, "nouvel-agent") == "/account"  # nothing to review yet
    # An explicit destination still wins.
    secure_client.post("/logout", headers=FROM_PAGE)
    secure_client.get("/login")
    went = secure_client.post(
        "/login",
        data={"name": "prof", "password": PASSWORD, "next": "/account"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert went.headers["location"] == "/account"


def test_new_account_attached_to_a_corpus_and_a_readable_audit_log(
    secure_client: TestClient,
) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "root", Role.admin)
    _land(secure_client, "root")
    created = secure_client.post(
        "/admin/users",
        data={"name": "agent.neuf", "role": "agent", "password": PASSWORD, "corpus": "mairie"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    mismatch = secure_client.post(
        "/admin/users",
        data={"name": "agent.cours", "role": "agent", "password": PASSWORD, "corpus": "svt"},
        headers=FROM_PAGE,
    )
    assert mismatch.status_code == 422 and 'href="#new_corpus"' in mismatch.text
    with transaction(state(secure_client).sessions) as session:
        mairie = get_corpus(session=session, name="mairie")
        assert mairie is not None
        neuf = get_user(session=session, name="agent.neuf")
        assert neuf is not None and get_user(session=session, name="agent.cours") is None
        assert member_role(session=session, corpus=mairie, user_id=neuf.id) == "owner"

    # The new agent uploads, deletes and publishes: each lands in the log, by name.
    secure_client.post("/logout", headers=FROM_PAGE)
    _land(secure_client, "agent.neuf")
    uploaded = secure_client.post(
        "/corpora/mairie/documents",
        files=[("files", ("respiration.md", LESSON.encode(), "text/markdown"))],
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    document = add_document(secure_client, "mairie", "autre.md", LESSON + " Autre.")
    secure_client.post(
        f"/documents/{document}/delete",
        data={"confirm": "yes"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    secure_client.post(
        "/corpora/mairie/open-data",
        data={"publish": "true", "licence": "Licence Ouverte 2.0"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    secure_client.post("/logout", headers=FROM_PAGE)
    _land(secure_client, "root")
    page = secure_client.get("/admin")
    lines = page.context["audit_lines"]  # type: ignore[attr-defined]
    events = [line.event for line in lines]
    for wanted in (
        "document déposé",
        "document supprimé",
        "publication des données ouvertes changée",
    ):
        assert wanted in events, events
    uploaded_line = next(line for line in lines if line.event == "document déposé")
    assert uploaded_line.actor == "agent.neuf" and uploaded_line.corpus == "mairie"
    assert "version 1" in uploaded_line.about
    assert "T" not in uploaded_line.at and "/" in uploaded_line.at  # « 02/12/2026 07:05 »
    created_line = next(line for line in lines if line.event == "compte créé")
    assert created_line.actor == "root" and created_line.subject == "agent.neuf"
    # Filters: one kind of event, one person.
    only = secure_client.get("/admin?event=document_deleted")
    assert {line.event for line in only.context["audit_lines"]} == {"document supprimé"}  # type: ignore[attr-defined]
    with transaction(state(secure_client).sessions) as session:
        neuf_id = get_user(session=session, name="agent.neuf").id  # type: ignore[union-attr]
    theirs = secure_client.get(f"/admin?person={neuf_id}").context["audit_lines"]  # type: ignore[attr-defined]
    assert theirs and all("agent.neuf" in (line.actor, line.subject) for line in theirs)
