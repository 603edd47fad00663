"""Issue #17: each person finds their work and is told the right things.

The first minute of a teacher and of an agent after signing in (their queue, their
documents, the menu's live count), a student's wording, a citizen who asks a person or
says whether an answer helped (focus, once per answer), Enter to send, a failed sign-in,
a damaged PDF, a deletion that asks first, and the tables at 360 px.
Every name here starts with ``p17`` (the live server is shared by all browser tests).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Role
from tests.browser.support import MOBILE, LiveServer, PageCheck, sign_in, tab_to

pytestmark = pytest.mark.browser

LESSON = """# Biologie — la reproduction

## La fécondation

La fécondation est la rencontre d'un ovule et d'un spermatozoïde. Elle donne une cellule
œuf qui se divise ensuite pour former l'embryon.
"""
PROCEDURE = """# Inscription sur les listes électorales

## Pièces à fournir

Pour vous inscrire sur les listes électorales, fournissez une pièce d'identité et un
justificatif de domicile de moins de trois mois.
"""
COURSE_QUESTION = "Qu'est-ce que la fécondation ?"
PROCEDURE_QUESTION = "Quelles pièces pour s'inscrire sur les listes électorales ?"
OFF_TOPIC = "Où promener mon chien le dimanche matin ?"

# Every word of the cells of a table laid out on one line (none broken letter by letter; a
# line may end after a hyphen).
BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      const re = /[^\\s-]+/g;  // a break after a hyphen is allowed
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def ask_with_enter(page: Page, question: str) -> None:
    """Type the question, a second line with Shift+Enter, then send it with Enter."""
    tab_to(page, "#question")
    page.keyboard.type(question)
    page.keyboard.press("Shift+Enter")
    assert page.locator("#question").input_value() == question + "\n", "Shift+Enter: new line"
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")


def test_teacher_first_minute_queue_documents_and_the_student_wording(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    course = live_server.corpus("p17-bio", kind="course", review="always", title="Biologie 1re")
    teacher = live_server.user("p17.prof", Role.teacher, owns=(course,))
    student = live_server.user("p17.eleve", Role.student, studies=(course,))
    live_server.document(course, "fecondation.md", LESSON)

    # The student lands on their course, asks with Enter, and is told the teacher checks.
    student_page = new_context().new_page()
    sign_in(student_page, student)
    assert student_page.url.endswith(f"/?corpus={course}"), student_page.url
    nav = student_page.locator("header nav")
    expect(nav.locator('a[href="/relecture"]')).to_have_count(0)
    expect(nav.locator('a[href="/documents"]')).to_have_count(0)
    ask_with_enter(student_page, COURSE_QUESTION)
    held = student_page.locator("#answers article.answer--pending_review")
    expect(held).to_be_visible(timeout=30_000)
    message = held.locator(".status-message")
    expect(message).to_contain_text("l'enseignant du cours")
    expect(student_page.locator("#answers")).not_to_contain_text("agent")
    check(student_page, "01-student-held")

    # The teacher signs in without a destination and lands on their queue.
    page = new_context().new_page()
    sign_in(page, teacher)
    assert page.url.endswith("/relecture"), page.url
    count = page.locator("header #nav-waiting")
    expect(count).to_have_attribute("data-waiting", "1")
    expect(count).to_have_attribute("hx-trigger", "every 10s")
    card = page.locator(f'.corpus-card[data-corpus="{course}"]')
    expect(card.locator(".waiting-link")).to_contain_text("Questions à relire : 1")
    expect(card.locator(".documents-link")).to_contain_text("Documents : 1")
    expect(page.locator(".review-card", has_text=COURSE_QUESTION)).to_have_count(1)
    check(page, "02-teacher-home")

    # From the menu, by keyboard: their documents.
    tab_to(page, 'header a[href="/documents"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main li", has_text="Biologie 1re")).to_contain_text("Documents : 1")
    tab_to(page, f'main a[href="/corpora/{course}/documents"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#documents-table tbody tr")).to_have_count(1)
    check(page, "03-teacher-documents")
    # At 360 px the table becomes cards whose cells still say what they are.
    page.set_viewport_size(MOBILE)
    version = page.locator('#documents-table td[data-label="Version"]')
    label = version.evaluate("e => getComputedStyle(e, '::before').content")
    assert "Version" in label, label
    expect(page.locator("#documents-table thead")).to_have_count(1)


def test_agent_first_minute_and_the_live_count(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    corpus = live_server.corpus("p17-mairie", title="Mairie p17", review="flagged")
    agent = live_server.user("p17.agent", Role.agent, owns=(corpus,))
    live_server.document(corpus, "listes.md", PROCEDURE)

    page = new_context().new_page()
    sign_in(page, agent)
    assert page.url.endswith("/relecture"), page.url
    count = page.locator("header #nav-waiting")
    expect(count).to_have_attribute("data-waiting", "0")
    expect(page.locator("header nav a[href='/documents']")).to_be_visible()
    expect(page.locator("header nav a[href='/admin']")).to_have_count(0)
    check(page, "04-agent-home")

    # A citizen's declined question, sent to a person: the agent's menu counts it by itself.
    citizen = new_context().new_page()
    citizen.goto(f"/?corpus={corpus}")
    ask_with_enter(citizen, OFF_TOPIC)
    declined = citizen.locator("#answers article.answer--declined")
    expect(declined).to_be_visible(timeout=30_000)
    tab_to(citizen, "#answers form.ask-human button[type=submit]")
    expect(citizen.locator("form.ask-human button")).to_have_text("Demander l'aide d'un agent")
    citizen.keyboard.press("Enter")
    waiting = citizen.locator("#answers article.answer--pending_review")
    message = waiting.locator(".status-message")
    expect(message).to_contain_text("transmise à un agent du service")
    expect(message).to_contain_text("pas encore de réponse")
    expect(message).to_be_focused()
    expect(waiting.locator(".next-steps")).to_contain_text("rappelée")
    expect(waiting.locator(".next-steps")).to_contain_text("01 23 45 67 89")  # GUICHET_CONTACT
    expect(waiting.locator("form.ask-human")).to_have_count(0)
    check(citizen, "05-citizen-asked-a-person")

    expect(count).to_have_attribute("data-waiting", "1", timeout=30_000)
    expect(page.locator("#nav-waiting")).to_contain_text("1")


def test_feedback_once_focus_and_the_reviewer_reads_the_comment(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    corpus = live_server.corpus("p17-avis", title="Mairie p17 avis", review="flagged")
    agent = live_server.user("p17.agent.avis", Role.agent, owns=(corpus,))
    live_server.document(corpus, "listes.md", PROCEDURE)

    page = new_context().new_page()
    page.goto(f"/?corpus={corpus}")
    ask_with_enter(page, PROCEDURE_QUESTION)
    answer = page.locator("#answers article.answer--released")
    expect(answer).to_be_visible(timeout=30_000)
    tab_to(page, f"#{answer.get_attribute('id')} textarea[name=comment]")
    page.keyboard.type("La liste des pièces ne parle pas des jeunes de 18 ans.")
    tab_to(page, "form.feedback button[value=false]")
    page.keyboard.press("Enter")
    given = page.locator(".feedback-given .feedback-thanks")
    expect(given).to_be_focused()
    expect(given).to_contain_text("un agent va la relire")
    check(page, "06-feedback-given")

    # After a reload the form does not come back; the opinion can be changed, not doubled.
    page.reload()
    expect(page.locator("form.feedback")).to_have_count(0)
    tab_to(page, ".feedback-given button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".feedback-given .feedback-thanks")).to_contain_text("utile. Merci")
    expect(page.locator(".feedback-given .feedback-thanks")).to_be_focused()

    # The agent reviewing that answer reads the comment (and no style is refused by the CSP).
    reviewer = new_context().new_page()
    refused: list[str] = []
    reviewer.on(
        "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(reviewer, agent)
    card = reviewer.locator(".review-card", has_text=PROCEDURE_QUESTION)
    with reviewer.expect_navigation():
        card.locator("h3 a").click()
    expect(reviewer.locator(".feedback-comment")).to_contain_text("jeunes de 18 ans")
    check(reviewer, "07-reviewer-reads-feedback")
    tab_to(reviewer, "#review-panel .review-actions button[type=submit]")
    reviewer.keyboard.press("Enter")
    expect(reviewer.locator("#review-panel [data-focus]")).to_be_focused()
    reviewer.goto("/relecture/tableau")
    check(reviewer, "08-reviewer-dashboard")
    assert not refused, refused


def test_failed_sign_in_focuses_the_error(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    page = new_context().new_page()
    page.goto("/login")
    tab_to(page, "#name")
    page.keyboard.type("p17.personne")
    page.keyboard.press("Tab")
    page.keyboard.type("pas le bon mot de passe")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    check(page, "09-sign-in-failed")


def test_damaged_pdf_and_deleting_asks_first(
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    check: PageCheck,
    tmp_path: Path,
) -> None:
    corpus = live_server.corpus("p17-depot", title="Mairie p17 dépôts")
    agent = live_server.user("p17.agent.depot", Role.agent, owns=(corpus,))
    live_server.document(corpus, "listes.md", PROCEDURE)
    damaged = tmp_path / "x.pdf"
    damaged.write_bytes(bytes(range(256)) * 16)

    page = new_context().new_page()
    sign_in(page, agent, next_path=f"/corpora/{corpus}/documents")
    expect(page.locator("#files-hint")).to_contain_text("2\u202fMo au plus")
    page.locator("#files").set_input_files(str(damaged))
    page.locator("form[hx-post] button[type=submit]").click()
    error = page.locator("#documents-table .error-message", has_text="x.pdf")
    expect(error).to_contain_text("illisible ou endommagé", timeout=30_000)
    expect(error).not_to_contain_text("pas pris en charge")
    check(page, "10-damaged-pdf")

    # « Supprimer » asks first, says what stays, and can be cancelled.
    row = page.locator("#documents-table tbody tr", has_text="listes.md")
    with page.expect_navigation():
        row.locator("a.delete-link").click()
    expect(page.locator("main")).to_contain_text("restent dans l'historique")
    check(page, "11-delete-confirm")
    tab_to(page, "main form button.danger")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flash = page.locator(".flash")
    expect(flash).to_contain_text("est supprimé")
    expect(flash).to_be_focused()
    expect(page.locator("#documents-table tbody tr", has_text="listes.md")).to_have_count(0)


def test_admin_tables_at_360px_keep_words_whole(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    admin = live_server.user("p17.admin", Role.admin)
    page = new_context().new_page()
    sign_in(page, admin)
    assert page.url.endswith("/admin"), page.url
    expect(page.locator("header nav a[href='/admin']")).to_be_visible()
    check(page, "12-admin")
    page.set_viewport_size(MOBILE)
    assert page.locator(".data-table").count() > 0
    broken = page.evaluate(BROKEN_WORDS, ".data-table th, .data-table td")
    assert not broken, f"words broken across lines at 360 px: {broken[:10]}"


def test_favicon_is_served(
    live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    response = page.request.get("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/x-icon"
