"""What retrieval found is shown before the answer, labelled as excerpts, announced once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.support import LiveServer, PageCheck

pytestmark = pytest.mark.browser

PASSEPORT = """# Passeport

## Coût

Le timbre fiscal du passeport coûte 86 euros pour un adulte et 42 euros pour un mineur
de 15 à 17 ans. Il s'achète en ligne ou dans un bureau de tabac agréé.
"""

# Records, in order, when the found sources and the first sentence of the answer appear,
# and every text the live status region takes while the answer is written.
WATCH = """() => {
  const seen = {order: [], status: []};
  window.__sourcesWatch = seen;
  new MutationObserver(records => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType === 1 && node.classList.contains('found-sources')) {
          seen.order.push('sources');
        }
        if (node.nodeType === 3 && r.target.classList
            && r.target.classList.contains('answer-text')) {
          seen.order.push('sentence');
        }
        if (node.nodeType === 3 && r.target.getAttribute
            && r.target.getAttribute('role') === 'status') {
          seen.status.push(node.data);
        }
      }
    }
  }).observe(document.getElementById('answers'),
             {childList: true, subtree: true, characterData: true});
}"""


def test_sources_appear_before_the_answer_and_are_announced_once(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    corpus = live_server.corpus("mairie-premiers", title="Mairie de Test", review="never")
    live_server.document(corpus, "passeport.md", PASSEPORT)
    assert live_server.engine is not None
    live_server.engine.reply = lambda request: "Le timbre coûte 86 euros pour un adulte [1]."
    page = new_context().new_page()
    page.goto(f"/?corpus={corpus}")
    page.fill("#question", "Combien coûte le timbre du passeport pour un adulte ?")
    page.evaluate(WATCH)
    page.click("form.ask-form button[type=submit]")
    answer = page.locator("#answers article.answer").last
    expect(answer).to_have_class("answer answer--released", timeout=60_000)
    seen: dict[str, Any] = page.evaluate("() => window.__sourcesWatch")
    assert seen["order"][:2] == ["sources", "sentence"], seen
    label = "Extraits des documents trouvés (ce n'est pas encore la réponse) :"
    assert seen["status"].count(label) == 1, seen["status"]
    expect(answer.locator(".sources li a").first).to_contain_text("Passeport")
    check(page, "sources-first")
