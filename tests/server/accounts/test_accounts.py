"""Accounts: signing in and out, passwords, API tokens, courses, administration, CLI."""

# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from accounts import audit
from accounts.audit import AuditEvent
from accounts.errors import AccountError
from accounts.models import ApiToken, Role, User
from accounts.users import get_user, update_user_recorded
from corpora.repository import get_corpus, member_role
from database import transaction, utcnow
from server.cli import app as guichet
from server.security.install import SecurityOptions
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_document, state
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    FROM_PAGE,
    PASSWORD,
    add_user,
    csrf_of,
    secure_app,
    secure_client,
    security_options,
    sign_in,
    standard_corpora,
    token_for,
)
from tests.storage import settings_env


def events(client: TestClient, event: str | None = None) -> list[AuditEvent]:
    with transaction(state(client).sessions) as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        return list(session.scalars(query))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- signing in ---------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_and_cookie_is_safe(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    before_token = csrf_of(secure_client, "/login")
    before_cookie = secure_client.cookies.get("guichet_session")
    response = secure_client.post(
        "/login",
        data={"name": "agent", "password": PASSWORD},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert secure_client.cookies.get("guichet_session") != before_cookie
    # The pre-sign-in CSRF token died with the old session (fixation).
    stale = secure_client.post("/api/v1/me/tokens", json={}, headers={"X-CSRF-Token": before_token})
    assert stale.status_code == 403
    assert secure_client.get("/api/v1/me").json()["name"] == "agent"
    assert [e.event for e in events(secure_client)] == ["sign_in"]


@pytest.mark.parametrize("security_options", [SecurityOptions(secure_cookies=True)], ids=["https"])
def test_cookie_is_secure_over_https(secure_client: TestClient) -> None:
    response = secure_client.get("/login")
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_wrong_password_is_refused_and_audited_without_names(secure_client: TestClient) -> None:
    user_id = add_user(secure_client, "agent", Role.agent)
    csrf_of(secure_client, "/login")
    for name in ("agent", "someone-typed-a-password-here"):
        response = secure_client.post(
            "/login", data={"name": name, "password": "wrong password!"}, headers=FROM_PAGE
        )
        assert response.status_code == 401
        assert "Nom d'utilisateur ou mot de passe incorrect." in html.unescape(response.text)
    failed = events(secure_client, "sign_in_failed")
    assert [e.subject_id for e in failed] == [user_id, None]
    assert all(e.detail == {"via": "web"} for e in failed)
    assert all(e.source and len(e.source) == 16 for e in failed)  # hashed address only
    assert secure_client.get("/api/v1/me").status_code == 401


def test_login_form_is_accessible(secure_client: TestClient) -> None:
    page = secure_client.get("/login").text
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page
    assert '<label for="name">' in page and '<label for="password">' in page
    csrf_of(secure_client, "/login")
    empty = secure_client.post("/login", data={"name": "", "password": ""}, headers=FROM_PAGE)
    assert empty.status_code == 422
    assert 'href="#name"' in empty.text and 'href="#password"' in empty.text
    assert 'aria-describedby="name-error"' in empty.text


def test_sign_out(secure_client: TestClient) -> None:
    add_user(secure_client, "prof", Role.teacher)
    sign_in(secure_client, "prof")
    response = secure_client.post("/logout", data={}, headers=FROM_PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert secure_client.get("/api/v1/me").status_code == 401
    assert events(secure_client)[-1].event == "sign_out"


def test_next_only_leads_inside_the_site(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    token = csrf_of(secure_client, "/login")
    response = secure_client.post(
        "/login",
        data={"name": "agent", "password": PASSWORD, "next": "//evil.test/"},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account"


def test_password_change_signs_out_other_sessions(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    app = secure_app(settings, fake_engine)
    with TestClient(app) as first, TestClient(app) as second:
        add_user(first, "prof", Role.teacher)
        token = sign_in(first, "prof")
        sign_in(second, "prof")
        wrong = first.post(
            "/api/v1/me/password",
            json={"current_password": "not it at all", "new_password": "a brand new secret"},
            headers={"X-CSRF-Token": token},
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_password"
        changed = first.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a brand new secret"},
            headers={"X-CSRF-Token": token},
        )
        assert changed.status_code == 204
        assert first.get("/api/v1/me").status_code == 200
        assert second.get("/api/v1/me").status_code == 401
        assert sign_in(second, "prof", "a brand new secret")


def test_password_change_page(secure_client: TestClient) -> None:
    add_user(secure_client, "prof", Role.teacher)
    token = sign_in(secure_client, "prof")
    mismatch = secure_client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new secret",
            "confirm_password": "another secret!!",
        },
        headers={"X-CSRF-Token": token},
    )
    assert mismatch.status_code == 422 and 'href="#confirm_password"' in mismatch.text
    done = secure_client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new secret",
            "confirm_password": "a brand new secret",
        },
        headers={"X-CSRF-Token": token},
    )
    assert done.status_code == 200 and "Mot de passe changé" in done.text


# -- tokens -------------------------------------------------------------------------------------


def test_token_lifecycle(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    csrf = sign_in(secure_client, "agent")
    created = secure_client.post(
        "/api/v1/me/tokens",
        json={"label": "script", "days": 30},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert token.startswith("gch_") and body["role"] == "agent" and body["state"] == "active"
    # Only a hash is stored.
    with transaction(state(secure_client).sessions) as session:
        rows = session.scalars(select(ApiToken)).all()
        assert all(token not in str(vars(row)) for row in rows)
    script = TestClient(secure_client.app)
    assert script.get("/api/v1/me", headers=bearer(token)).json()["name"] == "agent"
    listed = secure_client.get("/api/v1/me/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    revoked = secure_client.delete(
        f"/api/v1/me/tokens/{body['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert revoked.status_code == 204
    refused = script.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    assert [e.event for e in events(secure_client)] == [
        "sign_in",
        "token_created",
        "token_used",
        "token_revoked",
    ]
    assert all("gch_" not in str(e.detail) for e in events(secure_client))


def test_someone_elses_token_is_not_found(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    add_user(secure_client, "other", Role.agent)
    token_for(secure_client, "other")
    csrf = sign_in(secure_client, "agent")
    response = secure_client.delete("/api/v1/me/tokens/1", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 404


def test_expired_tokens_and_tokens_of_a_former_role_stop_working(
    secure_client: TestClient,
) -> None:
    add_user(secure_client, "agent", Role.agent)
    expiring = token_for(secure_client, "agent", days=1)
    demoted = token_for(secure_client, "agent")
    assert secure_client.get("/api/v1/me", headers=bearer(expiring)).status_code == 200
    with transaction(state(secure_client).sessions) as session:
        for row in session.scalars(select(ApiToken)):
            if row.id == 1:
                row.expires_at = utcnow() - timedelta(seconds=1)
    assert secure_client.get("/api/v1/me", headers=bearer(expiring)).status_code == 401
    assert secure_client.get("/api/v1/me", headers=bearer(demoted)).status_code == 200
    with transaction(state(secure_client).sessions) as session:
        user = get_user(session=session, name="agent")
        assert user is not None
        user.role = Role.teacher
    assert secure_client.get("/api/v1/me", headers=bearer(demoted)).status_code == 401


def test_token_limited_to_corpora(secure_client: TestClient, fake_engine: FakeEngine) -> None:
    standard_corpora(secure_client)
    add_document(secure_client, "svt", "respiration.md", "# Respiration\n\nLes poumons.")
    add_user(secure_client, "eleve", Role.student, corpora=("svt", "histoire"))
    token = token_for(secure_client, "eleve", corpora=["svt"])
    listed = secure_client.get("/api/v1/corpora", headers=bearer(token)).json()["corpora"]
    assert [c["name"] for c in listed] == ["svt"]
    refused = secure_client.post(
        "/api/v1/ask", json={"corpus": "histoire", "question": "Qui ?"}, headers=bearer(token)
    )
    assert refused.status_code == 403
    allowed = secure_client.post(
        "/api/v1/ask", json={"corpus": "svt", "question": "Les poumons ?"}, headers=bearer(token)
    )
    assert allowed.status_code == 200
    assert secure_client.get("/api/v1/me", headers=bearer(token)).json()["token_corpora"] == ["svt"]
    # A limited token can only make tokens at least as limited.
    inherited = secure_client.post("/api/v1/me/tokens", json={}, headers=bearer(token))
    assert inherited.status_code == 201 and inherited.json()["corpora"] == ["svt"]
    wider = secure_client.post(
        "/api/v1/me/tokens", json={"corpora": ["histoire"]}, headers=bearer(token)
    )
    assert wider.status_code == 403


def test_admin_token_limited_to_a_corpus_is_no_admin(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "root", Role.admin)
    token = token_for(secure_client, "root", corpora=["mairie"])
    assert secure_client.get("/api/v1/admin/users", headers=bearer(token)).status_code == 403


# -- courses ------------------------------------------------------------------------------------


def test_invitation_code_flow(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "prof", Role.teacher, corpora=("svt",))
    add_user(secure_client, "eleve", Role.student)
    teacher = TestClient(secure_client.app)
    t_csrf = sign_in(teacher, "prof")
    assert teacher.get("/api/v1/courses/svt/invitation").status_code == 404
    first = teacher.post("/api/v1/courses/svt/invitation", headers={"X-CSRF-Token": t_csrf})
    assert first.status_code == 200
    code = first.json()["code"]
    assert teacher.get("/api/v1/courses/svt/invitation").json()["code"] == code
    assert (
        teacher.post(
            "/api/v1/courses/histoire/invitation", headers={"X-CSRF-Token": t_csrf}
        ).status_code
        == 403
    )
    second = teacher.post("/api/v1/courses/svt/invitation", headers={"X-CSRF-Token": t_csrf})
    new_code = second.json()["code"]
    assert new_code != code

    s_csrf = sign_in(secure_client, "eleve")
    stale = secure_client.post(
        "/api/v1/courses/join", json={"code": code}, headers={"X-CSRF-Token": s_csrf}
    )
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invalid_code"
    typed = new_code.lower()[:4] + "-" + new_code.lower()[4:]
    joined = secure_client.post(
        "/api/v1/courses/join", json={"code": typed}, headers={"X-CSRF-Token": s_csrf}
    )
    assert joined.status_code == 200 and joined.json()["corpus"] == "svt"
    assert "svt" in [c["name"] for c in secure_client.get("/api/v1/corpora").json()["corpora"]]
    # Teachers cannot join as students.
    refused = teacher.post(
        "/api/v1/courses/join", json={"code": new_code}, headers={"X-CSRF-Token": t_csrf}
    )
    assert refused.status_code == 403
    assert {"invitation_rotated", "course_joined"} <= {e.event for e in events(secure_client)}


def test_join_page(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "prof", Role.teacher, corpora=("svt",))
    add_user(secure_client, "eleve", Role.student)
    with transaction(state(secure_client).sessions) as session:
        from accounts.courses import rotate_invitation

        corpus = get_corpus(session=session, name="svt")
        prof = get_user(session=session, name="prof")
        assert corpus and prof
        code = rotate_invitation(session=session, corpus=corpus, by=prof).code
    sign_in(secure_client, "eleve")
    wrong = secure_client.post("/join", data={"code": "NOPE"}, headers=FROM_PAGE)
    assert wrong.status_code == 422 and 'href="#code"' in wrong.text
    right = secure_client.post(
        "/join", data={"code": code}, headers=FROM_PAGE, follow_redirects=False
    )
    assert right.status_code == 303 and right.headers["location"] == "/?corpus=svt"


def test_teacher_adds_and_removes_students(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "prof", Role.teacher, corpora=("svt",))
    eleve = add_user(secure_client, "eleve", Role.student)
    add_user(secure_client, "collegue", Role.teacher)
    csrf = sign_in(secure_client, "prof")
    headers = {"X-CSRF-Token": csrf}
    added = secure_client.post(
        "/api/v1/courses/svt/students", json={"name": "eleve"}, headers=headers
    )
    assert added.status_code == 201
    not_student = secure_client.post(
        "/api/v1/courses/svt/students", json={"name": "collegue"}, headers=headers
    )
    assert not_student.status_code == 400
    names = [m["name"] for m in secure_client.get("/api/v1/courses/svt/students").json()["members"]]
    assert names == ["eleve"]
    removed = secure_client.delete(f"/api/v1/courses/svt/students/{eleve}", headers=headers)
    assert removed.status_code == 204
    again = secure_client.delete(f"/api/v1/courses/svt/students/{eleve}", headers=headers)
    assert again.status_code == 404
    page = secure_client.get("/account/courses/svt")
    assert page.status_code == 200 and "Aucun élève" in page.text


def test_a_student_sees_only_their_own_questions(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    app = secure_app(settings, fake_engine)
    with TestClient(app) as alice, TestClient(app) as bob:
        standard_corpora(alice)
        add_document(alice, "svt", "respiration.md", "# Respiration\n\nLes poumons échangent.")
        add_user(alice, "alice", Role.student, corpora=("svt",))
        add_user(alice, "bob", Role.student, corpora=("svt",))
        a_csrf = sign_in(alice, "alice")
        b_csrf = sign_in(bob, "bob")
        fake_engine.reply = lambda request: "Les poumons échangent [1]."
        mine = alice.post(
            "/api/v1/ask",
            json={"corpus": "svt", "question": "Question secrète d'Alice sur les poumons ?"},
            headers={"X-CSRF-Token": a_csrf},
        ).json()
        bob.post(
            "/api/v1/ask",
            json={"corpus": "svt", "question": "Question de Bob sur les poumons ?"},
            headers={"X-CSRF-Token": b_csrf},
        )
        page = bob.get("/?corpus=svt").text
        assert "Question de Bob" in page and "Alice" not in page
        assert bob.get(f"/api/v1/answers/{mine['answer_id']}").status_code == 404
        assert alice.get(f"/api/v1/answers/{mine['answer_id']}").status_code == 200


# -- administration -------------------------------------------------------------------------------


def test_admin_manages_users_corpora_and_owners(secure_client: TestClient) -> None:
    add_user(secure_client, "root", Role.admin)
    headers = {"X-CSRF-Token": sign_in(secure_client, "root")}
    created = secure_client.post(
        "/api/v1/admin/users",
        json={"name": "agent", "role": "agent", "password": PASSWORD},
        headers=headers,
    )
    assert created.status_code == 201
    agent_id = created.json()["id"]
    duplicate = secure_client.post(
        "/api/v1/admin/users", json={"name": "agent", "role": "agent"}, headers=headers
    )
    assert duplicate.status_code == 400
    corpus = secure_client.post(
        "/api/v1/admin/corpora",
        json={"name": "ville", "title": "Ville", "kind": "procedures", "review_policy": "never"},
        headers=headers,
    )
    assert corpus.status_code == 201
    owner = secure_client.put(f"/api/v1/admin/corpora/ville/owners/{agent_id}", headers=headers)
    assert owner.status_code == 200
    members = secure_client.get("/api/v1/admin/corpora/ville/members").json()["members"]
    assert [(m["name"], m["membership"]) for m in members] == [("agent", "owner")]

    agent = TestClient(secure_client.app)
    sign_in(agent, "agent")
    patched = secure_client.patch(
        f"/api/v1/admin/users/{agent_id}", json={"role": "teacher"}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["role"] == "teacher"
    deactivated = secure_client.patch(
        f"/api/v1/admin/users/{agent_id}", json={"active": False}, headers=headers
    )
    assert deactivated.json()["active"] is False
    assert agent.get("/api/v1/me").status_code == 401
    me = secure_client.get("/api/v1/me").json()["id"]
    myself = secure_client.patch(
        f"/api/v1/admin/users/{me}", json={"active": False}, headers=headers
    )
    assert myself.status_code == 400
    mismatch = secure_client.put(f"/api/v1/admin/corpora/ville/owners/{agent_id}", headers=headers)
    assert mismatch.status_code == 400  # a teacher now, and ville is for agents
    audit_log = secure_client.get("/api/v1/admin/audit").json()["events"]
    assert {
        "user_created",
        "corpus_created",
        "member_added",
        "role_changed",
        "user_deactivated",
    } <= {e["event"] for e in audit_log}


def test_admin_page(secure_client: TestClient) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "root", Role.admin)
    sign_in(secure_client, "root")
    page = secure_client.get("/admin")
    assert page.status_code == 200 and "Comptes" in page.text and "Mairie" in page.text
    created = secure_client.post(
        "/admin/users",
        data={"name": "prof", "role": "teacher", "password": PASSWORD},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert created.status_code == 303
    short = secure_client.post(
        "/admin/users",
        data={"name": "x2", "role": "teacher", "password": "short"},
        headers=FROM_PAGE,
    )
    assert short.status_code == 422 and 'href="#password"' in short.text
    owner = secure_client.post(
        "/admin/corpora/svt/owners",
        data={"name": "prof"},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert owner.status_code == 303
    with transaction(state(secure_client).sessions) as session:
        corpus = get_corpus(session=session, name="svt")
        prof = get_user(session=session, name="prof")
        assert corpus and prof
        assert member_role(session=session, corpus=corpus, user_id=prof.id) == "owner"
    wrong_kind = secure_client.post(
        "/admin/corpora/mairie/owners", data={"name": "prof"}, headers=FROM_PAGE
    )
    assert wrong_kind.status_code == 422


def test_user_updates_are_recorded_only_when_something_changes(
    secure_client: TestClient,
) -> None:
    root_id = add_user(secure_client, "root", Role.admin)
    agent_id = add_user(secure_client, "agent", Role.agent)
    by = audit.Actor(id=root_id, via="web")
    with transaction(state(secure_client).sessions) as session:
        root, agent = session.get_one(User, root_id), session.get_one(User, agent_id)
        update_user_recorded(session=session, user=agent, role=Role.agent, active=True, by=by)
        update_user_recorded(session=session, user=agent, role=Role.teacher, active=False, by=by)
        with pytest.raises(AccountError, match="cannot_change_self"):
            update_user_recorded(session=session, user=root, role=None, active=False, by=by)
    assert [(e.event, e.actor_id, e.detail) for e in events(secure_client)] == [
        ("role_changed", root_id, {"from_role": "agent", "to_role": "teacher", "via": "web"}),
        ("user_deactivated", root_id, {"via": "web"}),
    ]


# -- command line -------------------------------------------------------------------------------


def test_cli_token_revoke_and_roles(
    secure_client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    standard_corpora(secure_client)
    add_user(secure_client, "agent", Role.agent, corpora=("mairie",))
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    made = runner.invoke(guichet, ["users", "token", "agent", "--days", "7", "--corpus", "mairie"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    me = secure_client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["name"] == "agent" and me["token_corpora"] == ["mairie"]
    unknown = runner.invoke(guichet, ["users", "token", "agent", "--corpus", "nowhere"])
    assert unknown.exit_code == 1
    listed = runner.invoke(guichet, ["users", "tokens", "agent"])
    assert "active" in listed.stdout and token not in listed.stdout
    revoked = runner.invoke(guichet, ["users", "revoke-token", "agent", "--all"])
    assert revoked.exit_code == 0, revoked.output
    assert secure_client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert runner.invoke(guichet, ["users", "set-role", "agent", "teacher"]).exit_code == 0
    assert runner.invoke(guichet, ["corpus", "add-owner", "svt", "agent"]).exit_code == 0
    assert runner.invoke(guichet, ["corpus", "add-owner", "mairie", "agent"]).exit_code == 1
    assert runner.invoke(guichet, ["users", "deactivate", "agent"]).exit_code == 0
    with transaction(state(secure_client).sessions) as session:
        user = session.scalar(select(User).where(User.name == "agent"))
        assert user is not None and not user.active and user.role == Role.teacher
    assert {
        "token_created",
        "token_revoked",
        "role_changed",
        "member_added",
        "user_deactivated",
    } <= {e.event for e in events(secure_client)}


def test_cli_changes_are_recorded_from_the_shell(
    secure_client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    standard_corpora(secure_client)
    student_id = add_user(secure_client, "eleve", Role.student)
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    assert runner.invoke(guichet, ["corpus", "add-student", "svt", "eleve"]).exit_code == 0
    assert runner.invoke(guichet, ["corpus", "remove-member", "svt", "eleve"]).exit_code == 0
    assert runner.invoke(guichet, ["corpus", "remove-member", "svt", "eleve"]).exit_code == 1
    changed = runner.invoke(
        guichet, ["users", "password", "eleve", "--password", "a brand new secret"]
    )
    assert changed.exit_code == 0, changed.output
    assert [
        (e.event, e.actor_id, e.subject_id, e.source, e.detail) for e in events(secure_client)
    ] == [
        ("member_added", None, student_id, None, {"membership": "student", "via": "cli"}),
        ("member_removed", None, student_id, None, {"via": "cli"}),
        ("password_changed", None, student_id, None, {"via": "cli"}),
    ]
