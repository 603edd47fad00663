"""Accessibility across the pages the persona flows do not reach, and what holds everywhere:
visible focus on every focusable element, the skip link, the language switch, the
accessibility statement linked from every footer, and signed-in pages of every role.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Role
from tests.browser.support import FOCUS_STYLE, LiveServer, PageCheck, sign_in, tab_to

pytestmark = pytest.mark.browser


def tab_through_everything(page: Page, max_tabs: int = 60) -> int:
    """Tab from the top to the end of the page; every focused element must show its focus."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    seen: list[str] = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        style = page.evaluate(FOCUS_STYLE)
        if style is None:
            break
        key = f"{style['tag']}:{style['text']}"
        if seen and key == seen[0]:
            break  # wrapped around to the first element
        assert style["outline"] or style["shadow"], f"focus not visible on {style}"
        seen.append(key)
    return len(seen)


def test_home_and_statement_keyboard_and_footer(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    live_server.corpus("mairie-a11y", title="Mairie (accessibilité)")
    page = new_context().new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert tab_through_everything(page) >= 6
    check(page, "01-home")

    # The footer of every page links to the statement; reach it with the keyboard.
    footer_link = page.locator('footer a[href="/accessibilite"]')
    expect(footer_link).to_have_text("Accessibilité : non conforme")
    tab_to(page, 'footer a[href="/accessibilite"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Déclaration d'accessibilité")
    statement = page.locator("main")
    for words in ("non conforme", "RGAA", "axe-core", "clavier", "Défenseur des droits"):
        expect(statement).to_contain_text(words)
    assert tab_through_everything(page) >= 6
    check(page, "02-statement")


def test_language_switch(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    live_server.corpus("mairie-langues", title="Mairie (langues)")
    page = new_context().new_page()
    page.goto("/accessibilite")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    switch = page.locator(".lang-switch a")
    expect(switch).to_have_attribute("lang", "en")
    tab_to(page, ".lang-switch a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/accessibilite"), "the switch must stay on the same page"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Accessibility statement")
    expect(page.locator('footer a[href="/accessibilite"]')).to_have_text(
        "Accessibility: not compliant"
    )
    check(page, "01-statement-en")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Ask a question")
    expect(page.locator(".lang-switch a")).to_have_attribute("lang", "fr")
    check(page, "02-home-en")
    tab_to(page, ".lang-switch a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Poser une question")


def test_english_browser_gets_english_first(
    live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(locale="en-GB").new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_sign_in_page_and_its_errors(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    live_server.user("agent.oubli", Role.agent)
    page = new_context().new_page()
    page.goto("/login")
    assert tab_through_everything(page) >= 5
    check(page, "01-login")
    tab_to(page, "#name")
    page.keyboard.type("agent.oubli")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_be_visible()
    check(page, "02-login-refused")
    page.goto("/mes-questions")
    expect(page.locator(".empty-state")).to_be_visible()
    check(page, "03-my-questions-empty")


def test_pages_of_every_role(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    course = live_server.corpus("cours-a11y", kind="course", review="always", title="Cours")
    procedures = live_server.corpus("service-a11y", title="Service (accessibilité)")
    admin = live_server.user("admin.a11y", Role.admin)
    teacher = live_server.user("prof.a11y", Role.teacher, owns=(course,))
    student = live_server.user("eleve.a11y", Role.student, studies=(course,))
    agent = live_server.user("agent.a11y", Role.agent, owns=(procedures,))

    page = new_context().new_page()
    sign_in(page, admin, next_path="/admin")
    expect(page.locator("h1")).to_have_text("Administration")
    check(page, "01-admin")
    page.goto("/account")
    check(page, "02-admin-account")
    page.goto("/relecture")
    check(page, "03-admin-review-queue")
    page.goto("/relecture/tableau")
    check(page, "04-admin-dashboard")

    page = new_context().new_page()
    sign_in(page, teacher)
    check(page, "05-teacher-account")
    page.goto(f"/account/courses/{course}")
    check(page, "06-teacher-course")
    page.goto(f"/corpora/{course}/documents")
    check(page, "07-teacher-documents")

    page = new_context().new_page()
    sign_in(page, student)
    check(page, "08-student-account")
    page.goto("/join")
    check(page, "09-student-join")
    page.goto("/relecture")
    expect(page.locator("[role=alert]")).to_be_visible()
    check(page, "10-student-not-a-reviewer")

    page = new_context().new_page()
    sign_in(page, agent)
    check(page, "11-agent-account")
    page.goto(f"/corpora/{procedures}/documents")
    check(page, "12-agent-documents-empty")


def test_transparency_page_when_present(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    page = new_context().new_page()
    response = page.goto("/transparence")
    assert response is not None
    if response.status == 404:
        pytest.skip("no /transparence page in this app yet")
    check(page, "01-transparency")


def test_unknown_address_gets_a_page_with_a_way_home(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    page = new_context().new_page()
    response = page.goto("/demarches/inconnue")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Impossible d'aller plus loin")
    expect(page.get_by_role("alert")).to_have_text("Cette adresse n'existe pas.")
    tab_to(page, 'main a[href="/"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto("/demarches/inconnue")
    check(page, "23-not-found")
