"""A citizen asks on `/`, sees the answer stream in with its sources and opens one.

Keyboard only: skip link, question, send, source link, feedback. Once with the fake engine
at the HTTP edge (deterministic), once against the real vLLM CPU engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from server.settings import Settings
from tests.browser.support import (
    DESKTOP,
    TIMEOUT_MS,
    LiveServer,
    PageCheck,
    focus_is_visible,
    start_live_server,
    tab_to,
)
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

CARTE = """# Carte d'identité

## Photo

Fournissez une photo d'identité de moins de six mois, en couleur et sans lunettes.
La photo doit mesurer 35 mm de large et 45 mm de haut.

## Délais

Le délai de fabrication de la carte d'identité est de deux à trois semaines.
Vous recevez un message quand la carte est prête à retirer en mairie.
"""
QUESTION = "Quelle photo d'identité faut-il fournir pour la carte d'identité ?"

# Records what the answer area shows while the answer is written (the observer keeps
# mutation records, so sentences are seen even when the final answer replaces them at once).
WATCH_ANSWERS = """() => {
  const seen = {busy: false, status: [], sentences: []};
  window.__answerWatch = seen;
  const answers = document.getElementById('answers');
  new MutationObserver(records => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType === 1 && node.getAttribute('aria-busy') === 'true') {
          seen.busy = true;
          const status = node.querySelector('[role=status]');
          if (status) seen.status.push(status.textContent);
        }
        const parent = r.target;
        if (node.nodeType === 3 && parent.classList && parent.classList.contains('answer-text')
            && parent.closest('[aria-busy=true]')) {
          seen.sentences.push(node.data);
        }
      }
    }
  }).observe(answers, {childList: true, subtree: true});
}"""


def ask_with_keyboard(page: Page, question: str) -> None:
    """From the top of the page: skip link, then the question field, then send."""
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert focus_is_visible(page), "the skip link's focus is not visible"
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    tab_to(page, "#question")
    page.keyboard.type(question)
    tab_to(page, "form.ask-form button[type=submit]")
    page.evaluate(WATCH_ANSWERS)
    page.keyboard.press("Enter")


def citizen_flow(
    page: Page, check: PageCheck, corpus: str, *, expect_streamed_sentences: bool
) -> dict[str, Any]:
    page.goto(f"/?corpus={corpus}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#answers")).to_have_attribute("aria-live", "polite")
    check(page, "01-home")

    ask_with_keyboard(page, QUESTION)
    answer = page.locator("#answers article.answer").last
    expect(answer).to_have_class("answer answer--released", timeout=120_000)
    seen: dict[str, Any] = page.evaluate("() => window.__answerWatch")
    assert seen["busy"], "no placeholder marked aria-busy while the answer was written"
    assert seen["status"] and seen["status"][0].strip(), "no live status while writing"
    if expect_streamed_sentences:
        assert seen["sentences"], "no sentence streamed before the final answer"
    expect(answer.locator(".answer-text")).not_to_be_empty()
    sources = answer.locator(".sources li a")
    expect(sources.first).to_be_visible()
    # The finished answer takes the focus-less place of the placeholder; the form is ready again.
    expect(page.locator("#question")).to_have_value("")
    check(page, "02-answer")

    link = sources.first
    href = link.get_attribute("href") or ""
    tab_to(page, f'#answers .sources a[href="{href}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/documents/" in page.url and "passage=" in page.url
    cited = page.locator("section.passage--cited")
    expect(cited).to_have_count(1)
    expect(cited).to_have_attribute("aria-current", "true")
    expect(cited).to_be_in_viewport()
    fragment = href.split("#", 1)[1]
    assert cited.get_attribute("id") == fragment
    background = cited.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), "cited passage not highlighted"
    check(page, "03-document")
    return seen


def test_citizen_asks_and_opens_a_source(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    corpus = live_server.corpus("mairie-citoyen", title="Mairie de Test", review="flagged")
    live_server.document(corpus, "carte.md", CARTE)
    page = new_context().new_page()
    citizen_flow(page, check, corpus, expect_streamed_sentences=True)

    # Back to the conversation (keyboard: the "back" link), then say the answer helped.
    tab_to(page, "main a[href^='/?corpus=']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "form.feedback button[value=true]")
    page.keyboard.press("Space")
    thanks = page.locator(".feedback-thanks[role=status]")
    expect(thanks).to_be_visible()
    expect(thanks).to_be_focused()  # not lost on <body> with the button that was pressed
    check(page, "04-feedback")


@pytest.fixture(scope="module")
def real_engine_server(
    embedded_engine: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app talking to the real vLLM CPU engine started once for the session."""
    settings = make_settings(
        tmp_path_factory.mktemp("live-real") / "data",
        llm_base_url=embedded_engine.base_url,
        llm_model=Settings().llm_model,
    )
    server = start_live_server(settings, None, None)
    yield server
    server.stop()


@pytest.mark.engine
@pytest.mark.slow
def test_citizen_flow_against_the_real_engine(
    real_engine_server: LiveServer, browser: Any, check: PageCheck
) -> None:
    corpus = real_engine_server.corpus("mairie-reelle", title="Mairie", review="never")
    real_engine_server.document(corpus, "carte.md", CARTE)
    context = browser.new_context(base_url=real_engine_server.url, locale="fr-FR", viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        citizen_flow(page, check, corpus, expect_streamed_sentences=False)
    finally:
        context.close()
