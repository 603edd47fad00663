"""Real-browser fixtures: the app served by uvicorn, Debian's Chromium, axe-core, screenshots.

- ``live_server`` (one per session): the real app (``create_app`` + ``install_security``)
  on a free 127.0.0.1 port over a temp data folder (SQLite, Chroma, packaged embedder);
  only the engine's HTTP is faked, with a reply that quotes and cites the first passage.
- ``browser`` (one per session): /usr/bin/chromium driven by Playwright; never a download
  (Playwright gives each launch a fresh temporary profile). Each test opens its own
  contexts (one per person), in French unless it says otherwise.
- ``check``: what every visited page goes through: axe-core (WCAG 2.1 A/AA, zero serious
  or critical violations) at desktop width and at 360 px, a screenshot at both widths
  into tests/screenshots/, and no horizontal scroll at 360 px. Every axe result is also
  written to tests/screenshots/axe-report.json.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    TIMEOUT_MS,
    AxeReport,
    LiveServer,
    PageCheck,
    quoting_reply,
    start_live_server,
)
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the fake engine at the HTTP edge; shared by the browser tests."""
    engine = FakeEngine(quoting_reply)
    # Sources on 127.0.0.1 (the sync tests' website), read without a polite pause.
    # A contact for the service: shown where a question is sent to a person (#17).
    # Every test signs in from 127.0.0.1: with the per-address limit (10 a minute), a fast
    # run was turned away as a guesser. Throttling has tests of its own
    # (tests/server/accounts/test_sign_in_throttling.py).
    settings = make_settings(
        tmp_path_factory.mktemp("live") / "data",
        sync_private_networks=True,
        sync_delay_s=0,
        contact="accueil de la mairie, 01 23 45 67 89",
        rate_limit_login_per_minute=0,
    )
    server = start_live_server(settings, httpx.AsyncClient(transport=engine.transport()), engine)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian's chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, in a fresh profile (Playwright makes a new temp one)."""
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Opens browser contexts (one per person) that are closed after the test."""
    opened: list[BrowserContext] = []

    def open_context(base_url: str | None = None, locale: str = "fr-FR") -> BrowserContext:
        context = browser.new_context(
            base_url=base_url or live_server.url, viewport=DESKTOP, locale=locale
        )
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def axe_report() -> Iterator[AxeReport]:
    report = AxeReport()
    yield report
    report.write()


@pytest.fixture
def check(axe_report: AxeReport, request: pytest.FixtureRequest) -> PageCheck:
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return PageCheck(axe_report, f"{module}-{request.node.name.removeprefix('test_')}")
