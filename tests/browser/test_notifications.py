"""Staff really in the loop: a student's question in an « always review » course reaches the
teacher by e-mail (read from the test SMTP server); the teacher follows the link, signs
in and approves; the student's page updates by itself and the student gets the approved
text by e-mail. The e-mails' HTML goes through axe-core like every page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Frequency, Role
from accounts.users import get_user
from database import transaction
from tests.browser.support import (
    PASSWORD,
    LiveServer,
    PageCheck,
    quoting_reply,
    sign_in,
    start_live_server,
    tab_to,
)
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.smtp import SmtpServer, free_port

pytestmark = pytest.mark.browser

LESSON = """# SVT — La respiration

## Où a lieu la respiration cellulaire ?

La respiration cellulaire a lieu dans les mitochondries. Elle consomme du dioxygène
et du glucose, et rejette du dioxyde de carbone.
"""
QUESTION = "Où a lieu la respiration cellulaire ?"
TEACHER_MAIL = "durand@lycee.example.fr"
STUDENT_MAIL = "lina@eleves.example.fr"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpServer
) -> Iterator[LiveServer]:
    """The app sending e-mail through the test server; links in e-mails name its port."""
    port = free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("mail") / "data",
        **smtp_server.settings(),
        public_url=f"http://127.0.0.1:{port}",
        notify_interval_s=0.2,
        notify_default="immediate",
    )
    engine = FakeEngine(quoting_reply)
    server = start_live_server(
        settings, httpx.AsyncClient(transport=engine.transport()), engine, port=port
    )
    yield server
    server.stop()


def _set_email(server: LiveServer, name: str, address: str) -> None:
    with transaction(server.state.sessions) as session:
        user = get_user(session=session, name=name)
        assert user is not None
        user.email, user.notify = address, Frequency.immediate


def _show_email(page: Page, html: str) -> None:
    page.set_content(html)
    expect(page.locator("h1")).to_be_visible()


def test_the_teacher_hears_by_email_approves_and_the_student_hears_back(
    mail_server: LiveServer,
    smtp_server: SmtpServer,
    new_context: Callable[..., BrowserContext],
    check: PageCheck,
) -> None:
    course = mail_server.corpus("svt-mail", kind="course", review="always", title="SVT 2de")
    teacher = mail_server.user("prof.durand", Role.teacher, owns=(course,))
    student = mail_server.user("eleve.lina", Role.student, studies=(course,))
    _set_email(mail_server, teacher, TEACHER_MAIL)
    _set_email(mail_server, student, STUDENT_MAIL)
    mail_server.document(course, "respiration.md", LESSON)

    # The student asks; the answer is held for the teacher.
    student_page = new_context(base_url=mail_server.url).new_page()
    sign_in(student_page, student, next_path=quote(f"/?corpus={course}", safe="/"))
    tab_to(student_page, "#question")
    student_page.keyboard.type(QUESTION)
    tab_to(student_page, "form.ask-form button[type=submit]")
    student_page.keyboard.press("Enter")
    held = student_page.locator("#answers article.answer--pending_review")
    expect(held).to_be_visible(timeout=30_000)
    answer_id = (held.get_attribute("id") or "").removeprefix("answer-")
    student_page.evaluate("() => { window.__sameDocument = true; }")

    # The teacher's e-mail: the question, a link to the item, a way to change settings.
    [mail] = smtp_server.wait_for(TEACHER_MAIL)
    assert QUESTION in mail.text
    link = re.search(r"http://127\.0\.0\.1:\d+/relecture/\d+", mail.text)
    assert link, mail.text
    assert f"{mail_server.url}/account#notifications" in mail.text
    mail_page = new_context(base_url=mail_server.url).new_page()
    _show_email(mail_page, mail.html)
    check(mail_page, "01-teacher-email")

    # Following the link asks the teacher to sign in, then opens the item.
    teacher_page = new_context(base_url=mail_server.url).new_page()
    teacher_page.goto(link.group(0))
    assert "/login" in teacher_page.url
    tab_to(teacher_page, "#name")
    teacher_page.keyboard.type(teacher)
    teacher_page.keyboard.press("Tab")
    teacher_page.keyboard.type(PASSWORD)
    with teacher_page.expect_navigation():
        teacher_page.keyboard.press("Enter")
    assert teacher_page.url == link.group(0)
    expect(teacher_page.locator(".review-question")).to_have_text(QUESTION)
    check(teacher_page, "02-teacher-item-from-email")

    tab_to(teacher_page, "#review-panel .review-actions button[type=submit]")
    teacher_page.keyboard.press("Enter")
    status = teacher_page.locator("#review-panel .review-status[role=status]")
    expect(status).to_contain_text("Pris en charge")
    tab_to(teacher_page, "form.review-approve button[type=submit]")
    teacher_page.keyboard.press("Enter")
    expect(status).to_contain_text("Validé")

    # The student's page shows the answer without a reload...
    released = student_page.locator(f"#answer-{answer_id}")
    expect(released).to_have_class("answer answer--released", timeout=10_000)
    approved_text = released.locator(".answer-text").inner_text().strip()
    assert "mitochondries" in approved_text
    assert student_page.evaluate("() => window.__sameDocument === true"), "the page reloaded"

    # ...and the student's e-mail carries the approved text.
    [reply] = smtp_server.wait_for(STUDENT_MAIL)
    assert reply.subject == "[Guichet] La réponse à votre question"
    assert "mitochondries" in reply.text
    assert f"{mail_server.url}/mes-questions" in reply.text
    _show_email(mail_page, reply.html)
    check(mail_page, "03-student-email")
    assert len(smtp_server.messages(TEACHER_MAIL)) == 1  # one item, one e-mail


def test_settings_pages_and_a_citizens_reply_address_by_keyboard(
    mail_server: LiveServer,
    smtp_server: SmtpServer,
    new_context: Callable[..., BrowserContext],
    check: PageCheck,
) -> None:
    agent = mail_server.user("agent.martin", Role.agent)
    admin = mail_server.user("admin.mail", Role.admin)
    town = mail_server.corpus("mairie-mail", title="Mairie", review="flagged")

    # An agent sets an address and a daily digest on the account page.
    page = new_context(base_url=mail_server.url).new_page()
    sign_in(page, agent, next_path="/account")
    tab_to(page, "#email")
    page.keyboard.type("martin@mairie.example.fr")
    check(page, "04-account-notifications")
    tab_to(page, "#notifications button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Réglages de courriel enregistrés")
    expect(page.locator("#email")).to_have_value("martin@mairie.example.fr")

    # A citizen whose question is declined asks for a person and leaves an address.
    citizen = new_context(base_url=mail_server.url).new_page()
    citizen.goto(f"/?corpus={town}")
    tab_to(citizen, "#question")
    citizen.keyboard.type("Quels sont les horaires de la piscine ?")
    tab_to(citizen, "form.ask-form button[type=submit]")
    citizen.keyboard.press("Enter")
    declined = citizen.locator("#answers article.answer--declined")
    expect(declined).to_be_visible(timeout=30_000)
    field_id = declined.locator("input[type=email]").get_attribute("id")
    tab_to(citizen, f"#{field_id}")
    citizen.keyboard.type("jeanne@example")  # a typo: refused, nothing queued, kept
    citizen.keyboard.press("Tab")
    citizen.keyboard.press("Enter")
    field = citizen.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(field).to_have_value("jeanne@example")
    expect(citizen.locator(f"#{field_id}-error")).to_contain_text("Adresse électronique invalide")
    check(citizen, "05-citizen-reply-address-typo")
    tab_to(citizen, f"#{field_id}")  # the page checks may have moved the focus
    citizen.keyboard.press("End")
    citizen.keyboard.type(".org")
    tab_to(citizen, "#answers form.ask-human button[type=submit]")
    citizen.keyboard.press("Enter")
    expect(citizen.locator("#answers .status-message")).to_contain_text(
        "Vous recevrez la réponse par courriel."
    )

    # The admin page lists the e-mails sent, addresses masked.
    admin_page = new_context(base_url=mail_server.url).new_page()
    sign_in(admin_page, admin, next_path="/admin")
    outbox = admin_page.locator("#outbox")
    expect(outbox).to_contain_text("envoyé")
    expect(outbox).not_to_contain_text("lina@eleves.example.fr")
    check(admin_page, "06-admin-outbox")
