"""An agent adds the town hall's website as a source with the keyboard, watches its first
sync end on the documents page (counts, failures with their reasons, next run), then asks
for another run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from accounts.models import Role
from tests.browser.support import LiveServer, PageCheck, sign_in, tab_to
from tests.server.sources.helpers import town_hall_site
from tests.sites import StaticSite

pytestmark = pytest.mark.browser


def test_agent_adds_a_website_and_sees_its_sync(
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    check: PageCheck,
    tmp_path: Path,
) -> None:
    corpus = live_server.corpus("mairie-sources", title="Mairie (sources)")
    agent = live_server.user("agent.sources", Role.agent, owns=(corpus,))
    with StaticSite(tmp_path / "site") as site, StaticSite(tmp_path / "other") as other:
        town_hall_site(site, other)
        page = new_context().new_page()
        sign_in(page, agent, next_path=f"/corpora/{corpus}/documents")
        expect(page.locator("#sources-title")).to_have_text("Sources synchronisées")
        expect(page.locator("#sources-list .empty-state")).to_be_visible()

        tab_to(page, "#source-location")
        page.keyboard.type(f"{site.url}/")
        tab_to(page, "#source-every")
        page.keyboard.type("6h")
        tab_to(page, "form[action$='/sources'] button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        source = page.locator("#sources-list .source").first
        expect(source.locator(".source-counts")).to_contain_text(
            "7 ajouté(s), 0 mis à jour, 0 inchangé(s), 0 retiré(s), 3 en échec", timeout=60_000
        )
        expect(source).to_contain_text("toutes les 6 h")
        expect(source).to_contain_text("Prochaine :")
        tab_to(page, ".source-failures summary")
        page.keyboard.press("Enter")
        expect(source.locator(".source-failures")).to_contain_text(
            "la page redirige vers un autre site"
        )
        check(page, "01-source-synced")

        tab_to(page, ".source form[action$='/sync'] button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(source.locator(".source-counts")).to_contain_text("7 inchangé(s)", timeout=60_000)
        expect(source).to_contain_text("(demandée)")
        check(page, "02-source-synced-again")
    assert other.requests == [], "the other site is never asked anything"
