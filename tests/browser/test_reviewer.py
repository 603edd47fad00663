"""A reviewer (an agent who owns a corpus) claims an answer and rejects it with a reason;
the citizen's page, left open, says why without being reloaded.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from accounts.models import Role
from tests.browser.support import LiveServer, PageCheck, sign_in, tab_to

pytestmark = pytest.mark.browser

GUIDE = """# Aide au logement

## Dépôt du dossier

La demande d'aide au logement se fait en ligne sur le site de la caisse.
Le dossier doit contenir le bail signé et les ressources des deux dernières années.
"""
QUESTION = "Quelles pièces pour le dossier d'aide au logement ?"
REASON = "Pièces incomplètes : citer aussi l'attestation de loyer."


def test_reviewer_claims_and_rejects_with_a_reason(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    corpus = live_server.corpus("caf-relecture", title="Caisse d'allocations", review="always")
    reviewer = live_server.user("agent.relecteur", Role.agent, owns=(corpus,))
    live_server.document(corpus, "logement.md", GUIDE)

    citizen = new_context().new_page()
    citizen.goto(f"/?corpus={corpus}")
    tab_to(citizen, "#question")
    citizen.keyboard.type(QUESTION)
    citizen.keyboard.press("Tab")
    citizen.keyboard.press("Enter")
    held = citizen.locator("#answers article.answer--pending_review")
    expect(held).to_be_visible(timeout=30_000)
    answer_id = (held.get_attribute("id") or "").removeprefix("answer-")

    page = new_context().new_page()
    sign_in(page, reviewer, next_path="/relecture")
    expect(page.locator("#review-list .review-count[aria-live=polite]")).to_be_visible()
    card = page.locator(".review-card", has_text=QUESTION)
    expect(card).to_have_count(1)
    check(page, "01-queue")
    href = card.locator("h3 a").get_attribute("href")
    tab_to(page, f'.review-card h3 a[href="{href}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page, "02-item")

    tab_to(page, "#review-panel .review-actions button[type=submit]")
    page.keyboard.press("Space")
    status = page.locator("#review-panel .review-status[role=status]")
    expect(status).to_contain_text("Pris en charge")
    check(page, "03-claimed")

    tab_to(page, "#reject-reason")
    page.keyboard.type(REASON)
    tab_to(page, "form.review-reject button[type=submit]")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Refusé")
    expect(page.locator("#review-panel")).to_contain_text(REASON)
    expect(page.locator("#review-panel [data-focus]")).to_be_focused()
    check(page, "04-rejected")

    # The queue no longer lists it as open; the dashboard counts the decision.
    page.goto("/relecture")
    expect(page.locator(".review-card", has_text=QUESTION)).to_have_count(0)
    page.goto("/relecture/tableau")
    expect(page.locator("h1")).to_be_visible()
    check(page, "05-dashboard")

    # The citizen's page, never reloaded, gives the reason.
    answer = citizen.locator(f"#answer-{answer_id}")
    expect(answer).to_have_class("answer answer--rejected", timeout=10_000)
    expect(answer.locator(".status-message[role=status]")).to_contain_text(REASON)
    check(citizen, "06-citizen-told")
