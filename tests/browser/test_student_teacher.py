"""A student's question is held; the teacher edits and approves it; the student's page,
never reloaded, shows the edited answer (it polls while the answer waits).

Two people, two browser contexts, both on the keyboard only.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, expect

from accounts.models import Role
from tests.browser.support import LiveServer, PageCheck, sign_in, tab_to

pytestmark = pytest.mark.browser

COURSE = """# Droit administratif — séance 3

## Le recours pour excès de pouvoir

Le recours pour excès de pouvoir permet de demander au juge administratif l'annulation
d'une décision administrative illégale. Il doit être formé dans un délai de deux mois
à compter de la publication ou de la notification de la décision.
"""
QUESTION = "Quel est le délai du recours pour excès de pouvoir ?"
EDITED = (
    "Le recours pour excès de pouvoir doit être formé dans les deux mois qui suivent "
    "la publication ou la notification de la décision (relu par votre enseignante)."
)


def test_held_question_is_edited_and_approved_then_appears_without_reload(
    live_server: LiveServer, new_context: Callable[..., BrowserContext], check: PageCheck
) -> None:
    course = live_server.corpus(
        "droit-admin", kind="course", review="always", title="Droit administratif L2"
    )
    teacher = live_server.user("prof.durand", Role.teacher, owns=(course,))
    student = live_server.user("eleve.lina", Role.student, studies=(course,))
    live_server.document(course, "seance3.md", COURSE)

    # The student asks; the answer is held for the teacher.
    student_page = new_context().new_page()
    sign_in(student_page, student, next_path=quote(f"/?corpus={course}", safe="/"))
    expect(student_page.locator("h1")).to_be_visible()
    assert f"corpus={course}" in student_page.url
    check(student_page, "01-student-course")
    tab_to(student_page, "#question")
    student_page.keyboard.type(QUESTION)
    tab_to(student_page, "form.ask-form button[type=submit]")
    student_page.keyboard.press("Enter")
    held = student_page.locator("#answers article.answer--pending_review")
    expect(held).to_be_visible(timeout=30_000)
    expect(held.locator(".status-message[role=status]")).to_contain_text("vérification")
    expect(held).to_have_attribute("hx-trigger", "every 3s")
    expect(held.locator(".answer-text")).to_have_count(0)  # nothing unchecked is shown
    answer_id = (held.get_attribute("id") or "").removeprefix("answer-")
    student_page.evaluate("() => { window.__sameDocument = true; }")
    check(student_page, "02-student-held")

    # The teacher finds it in the review queue, claims, edits and approves it.
    teacher_page = new_context().new_page()
    sign_in(teacher_page, teacher, next_path="/relecture")
    card = teacher_page.locator(".review-card", has_text=QUESTION)
    expect(card).to_have_count(1)
    check(teacher_page, "03-teacher-queue")
    link = card.locator("h3 a")
    tab_to(teacher_page, f'.review-card h3 a[href="{link.get_attribute("href")}"]')
    with teacher_page.expect_navigation():
        teacher_page.keyboard.press("Enter")
    expect(teacher_page.locator(".review-question")).to_have_text(QUESTION)
    check(teacher_page, "04-teacher-item")

    tab_to(teacher_page, "#review-panel .review-actions button[type=submit]")
    teacher_page.keyboard.press("Enter")
    status = teacher_page.locator("#review-panel .review-status[role=status]")
    expect(status).to_contain_text("Pris en charge")
    expect(teacher_page.locator("#review-panel [data-focus]")).to_be_focused()
    check(teacher_page, "05-teacher-claimed")

    tab_to(teacher_page, "#answer-text")
    teacher_page.keyboard.press("Control+A")
    teacher_page.keyboard.press("Delete")
    teacher_page.keyboard.type(EDITED)
    tab_to(teacher_page, "form.review-approve button[type=submit]")
    teacher_page.keyboard.press("Space")
    expect(status).to_contain_text("Validé")
    expect(teacher_page.locator("#review-panel")).to_contain_text("relu par votre enseignante")
    check(teacher_page, "06-teacher-approved")

    # The student's page shows the edited answer by itself.
    released = student_page.locator(f"#answer-{answer_id}")
    expect(released).to_have_class("answer answer--released", timeout=10_000)
    expect(released.locator(".answer-text")).to_contain_text("relu par votre enseignante")
    assert student_page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    expect(student_page.locator("#answers")).to_have_attribute("aria-live", "polite")
    check(student_page, "07-student-released")

    # « Mes questions » lists it, edited, with who checked it.
    tab_to(student_page, 'header a[href="/mes-questions"]')
    with student_page.expect_navigation():
        student_page.keyboard.press("Enter")
    mine = student_page.locator(f"#mine-{answer_id}")
    expect(mine.locator(".answer-text")).to_contain_text("relu par votre enseignante")
    check(student_page, "08-student-my-questions")
