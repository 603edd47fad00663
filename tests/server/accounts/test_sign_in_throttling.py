"""Hardening (#16, item 8): sign-in throttling slows whoever guesses passwords, per address
and per account with back-off, without locking the owner's usual browser out; and
``X-Forwarded-For`` counts only from proxies named in ``GUICHET_TRUSTED_PROXIES``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from accounts.models import Role
from server.app import create_app
from server.security.install import SecurityOptions, install_security
from server.security.sessions import DEVICE_COOKIE, client_address
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.server.accounts_fixtures import FROM_PAGE, PASSWORD, add_user, csrf_of
from tests.storage import Storage

pytestmark = pytest.mark.usefixtures("steady_rate_windows")
PROXY = "10.0.0.254"
LOW = SecurityOptions(ask_per_minute=2, login_per_minute=3)


@pytest.fixture
def behind_proxy(tmp_path: Path, storage: Storage, fake_engine: FakeEngine) -> Iterator[object]:
    settings = make_settings(tmp_path / "data", **storage.settings(), trusted_proxies=PROXY)
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    install_security(app, settings, options=LOW)
    with TestClient(app, client=(PROXY, 50000)):
        yield app


def _browser(app: object) -> TestClient:
    return TestClient(app, client=(PROXY, 50000))  # type: ignore[arg-type]


def _attempt(browser: TestClient, address: str, name: str, password: str) -> int:
    csrf_of(browser, "/login")
    return browser.post(
        "/login",
        data={"name": name, "password": password},
        headers={**FROM_PAGE, "X-Forwarded-For": f"203.0.113.9, {address}"},
        follow_redirects=False,
    ).status_code


def test_sign_in_throttling_slows_an_attacker_without_locking_the_owner_out(
    behind_proxy: object,
) -> None:
    owner = _browser(behind_proxy)
    add_user(owner, "titulaire", Role.agent)
    assert _attempt(owner, "198.51.100.1", "titulaire", PASSWORD) == 303
    assert DEVICE_COOKIE in owner.cookies

    # An attacker guesses from a new address each time: the address limit never bites,
    # the account's failure limit does (3 a minute here), then answers 429 to strangers.
    attacker = _browser(behind_proxy)
    statuses = [
        _attempt(attacker, f"192.0.2.{n}", "titulaire", "wrong guess x") for n in range(1, 6)
    ]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
    # The owner's usual browser is not slowed down by the attacker's failures...
    assert _attempt(owner, "198.51.100.1", "titulaire", PASSWORD) == 303
    # ...while a browser the account never used waits like the attacker.
    stranger = _browser(behind_proxy)
    assert _attempt(stranger, "198.51.100.7", "titulaire", PASSWORD) == 429
    # Other accounts are not affected.
    add_user(stranger, "voisine", Role.agent)
    assert _attempt(stranger, "198.51.100.8", "voisine", PASSWORD) == 303


def test_one_address_guessing_many_accounts_is_slowed(behind_proxy: object) -> None:
    attacker = _browser(behind_proxy)
    statuses = [_attempt(attacker, "192.0.2.50", f"compte{n}", "wrong guess x") for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_forwarded_for_counts_only_from_trusted_proxies(
    tmp_path: Path, storage: Storage, fake_engine: FakeEngine
) -> None:
    forwarded = [(b"x-forwarded-for", b"203.0.113.9, 192.0.2.1")]
    settings = make_settings(tmp_path / "data", **storage.settings())
    assert settings.trusted_proxies == ""  # nothing trusted by default
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    scope = {"app": app, "client": ("127.0.0.1", 1), "headers": forwarded}
    assert client_address(scope) == "127.0.0.1"
    trusting = make_settings(tmp_path / "data", **storage.settings(), trusted_proxies="127.0.0.0/8")
    install_security(app, trusting, options=LOW)
    assert client_address(scope) == "192.0.2.1"
    # A forged hop beyond the proxy's own entry is not believed over it.
    assert client_address({**scope, "client": ("192.0.2.2", 1)}) == "192.0.2.2"
