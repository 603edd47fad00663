"""Fixtures and helpers for the accounts, permissions and security tests.

``secure_client`` is the real app with :func:`server.security.install_security` applied
(idempotent: once ``create_app`` calls it, applying it here changes nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from accounts.models import Role
from accounts.tokens import issue_token
from accounts.users import create_user
from corpora.repository import add_member, get_corpus
from database import transaction
from server.app import create_app
from server.security.install import SecurityOptions, install_security
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, state

PASSWORD = "correct horse battery"
# A form posted from one of our pages: the browser adds its Origin (server/security/csrf.py).
FROM_PAGE = {"Origin": "http://testserver"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


def secure_app(
    settings: Settings, fake_engine: FakeEngine, options: SecurityOptions | None = None
) -> Any:
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    install_security(app, settings, options=options)
    return app


@pytest.fixture
def security_options() -> SecurityOptions | None:
    """Override in a test module to change limits or cookie flags."""
    return None


@pytest.fixture
def secure_client(
    settings: Settings, fake_engine: FakeEngine, security_options: SecurityOptions | None
) -> Iterator[TestClient]:
    with TestClient(secure_app(settings, fake_engine, security_options)) as client:
        yield client


def add_user(
    client: TestClient,
    name: str,
    role: Role,
    *,
    corpora: tuple[str, ...] = (),
    password: str | None = PASSWORD,
) -> int:
    with transaction(state(client).sessions) as session:
        user = create_user(session=session, name=name, role=role, password=password)
        for corpus_name in corpora:
            corpus = get_corpus(session=session, name=corpus_name)
            assert corpus is not None
            add_member(
                session=session,
                corpus=corpus,
                user_id=user.id,
                role="student" if role == Role.student else "owner",
            )
        return user.id


def token_for(client: TestClient, name: str, **kwargs: Any) -> str:
    from accounts.users import get_user

    with transaction(state(client).sessions) as session:
        user = get_user(session=session, name=name)
        assert user is not None
        return issue_token(session=session, user=user, **kwargs)


def csrf_of(client: TestClient, path: str = "/") -> str:
    """Load a page and read the CSRF token from its meta tag."""
    page = client.get(path)
    found = CSRF_META.search(page.text)
    assert found and found.group(1), page.text[:500]
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the new session's CSRF token."""
    csrf_of(client, "/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password},
        headers=FROM_PAGE,
        follow_redirects=False,
    )
    assert response.status_code == 303, (name, response.status_code)
    return csrf_of(client, "/account")


def standard_corpora(client: TestClient) -> None:
    """Two public corpora and two courses, for permission tests."""
    add_corpus(client, "mairie", title="Mairie")
    add_corpus(client, "prefecture", title="Préfecture")
    add_corpus(client, "svt", kind="course", review="always", title="SVT")
    add_corpus(client, "histoire", kind="course", review="always", title="Histoire")
