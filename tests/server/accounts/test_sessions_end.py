"""Hardening (#16, item 5): signing out and changing one's password end sessions on the
server, not only in the browser that asked; API tokens can be revoked with the password."""

# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import Role
from server.security.sessions import SESSION_COOKIE
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    FROM_PAGE,
    PASSWORD,
    add_user,
    csrf_of,
    secure_client,
    security_options,
    sign_in,
    token_for,
)

NEW_PASSWORD = "another horse battery"


def test_sign_out_ends_the_session_server_side(secure_client: TestClient) -> None:
    add_user(secure_client, "agent-sortie", Role.agent)
    sign_in(secure_client, "agent-sortie")
    saved = secure_client.cookies[SESSION_COOKIE]
    assert secure_client.get("/api/v1/me").status_code == 200

    csrf_of(secure_client, "/account")
    signed_out = secure_client.post("/logout", headers=FROM_PAGE, follow_redirects=False)
    assert signed_out.status_code == 303

    # Someone who copied the cookie before signing out replays it.
    secure_client.cookies.set(SESSION_COOKIE, saved)
    assert secure_client.get("/api/v1/me").status_code == 401
    # Signing in again works, with a fresh session.
    sign_in(secure_client, "agent-sortie")
    assert secure_client.get("/api/v1/me").status_code == 200


def test_a_replayed_session_shows_the_menu_of_a_visitor(secure_client: TestClient) -> None:
    """The menu follows the same sign-in rule as the API: no review count, no account
    links for a session that was ended."""
    add_user(secure_client, "admin-sortie", Role.admin)
    sign_in(secure_client, "admin-sortie")
    saved = secure_client.cookies[SESSION_COOKIE]
    assert 'href="/admin"' in secure_client.get("/").text
    csrf_of(secure_client, "/account")
    secure_client.post("/logout", headers=FROM_PAGE, follow_redirects=False)

    secure_client.cookies.set(SESSION_COOKIE, saved)
    page = secure_client.get("/").text
    assert 'href="/admin"' not in page and 'action="/logout"' not in page
    assert 'href="/login"' in page


def test_password_change_ends_other_sessions_and_can_revoke_every_token(
    secure_client: TestClient,
) -> None:
    add_user(secure_client, "agent-mdp", Role.agent)
    kept, other = token_for(secure_client, "agent-mdp"), token_for(secure_client, "agent-mdp")
    bearer = {"Authorization": f"Bearer {kept}"}
    sign_in(secure_client, "agent-mdp")
    elsewhere = secure_client.cookies[SESSION_COOKIE]

    changed = secure_client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer,
    )
    assert changed.status_code == 204
    # Without asking, tokens keep working; the session signed in before does not.
    assert secure_client.get("/api/v1/me", headers=bearer).status_code == 200
    # Another browser on the same running app (no second start-up: one app, one state).
    replay = TestClient(secure_client.app)
    replay.cookies.set(SESSION_COOKIE, elsewhere)
    assert replay.get("/api/v1/me").status_code == 401

    revoked = secure_client.post(
        "/api/v1/me/password",
        json={
            "current_password": NEW_PASSWORD,
            "new_password": PASSWORD,
            "revoke_tokens": True,
        },
        headers=bearer,
    )
    assert revoked.status_code == 204
    for token in (kept, other):
        me = secure_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
