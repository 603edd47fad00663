"""An agent uploads a PDF and a DOCX, watches them being indexed, then a question finds them.

Keyboard only: sign-in, the corpus link, the file field (Space opens the file chooser),
the send button, then the citizen page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Role
from tests.browser.support import LiveServer, PageCheck, sign_in, tab_to

pytestmark = pytest.mark.browser

PDF_LINES = [
    "Allocation de rentrée scolaire",
    "L'allocation de rentrée scolaire est versée en août aux familles.",
    "Elle concerne chaque enfant scolarisé âgé de 6 à 18 ans.",
    "Le montant dépend de l'âge de l'enfant et des ressources du foyer.",
]
DOCX_PARAGRAPHS = [
    "Le stationnement résidentiel est accordé aux habitants du quartier.",
    "La vignette de stationnement résidentiel se demande au guichet de la mairie.",
    "Apportez un justificatif de domicile et la carte grise du véhicule.",
]


def write_pdf(path: Path, title: str, lines: list[str]) -> None:
    """A small valid PDF written by hand (no PDF library is a dependency): one page of text."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    content = b"BT /F1 12 Tf 72 760 Td 16 TL "
    content += b" T* ".join(literal(line) + b" Tj" for line in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title " + literal(title) + b" >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))


def write_docx(path: Path, title: str, paragraphs: list[str]) -> None:
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


# Keeps every status the documents table and its live region showed.
WATCH_STATUSES = """() => {
  const seen = {statuses: [], live: []};
  window.__statusWatch = seen;
  const note = () => {
    document.querySelectorAll('#documents-table .status').forEach(s => {
      if (!seen.statuses.includes(s.textContent.trim())) seen.statuses.push(s.textContent.trim());
    });
    const live = document.getElementById('documents-live');
    if (live && live.textContent && !seen.live.includes(live.textContent)) {
      seen.live.push(live.textContent);
    }
  };
  new MutationObserver(note).observe(document.querySelector('main'),
                                     {childList: true, subtree: true, characterData: true});
}"""


def ask(page: Page, question: str) -> None:
    tab_to(page, "#question")
    page.keyboard.type(question)
    tab_to(page, "form.ask-form button[type=submit]")
    page.keyboard.press("Enter")


def test_agent_uploads_a_pdf_and_a_docx_then_a_question_finds_them(
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    check: PageCheck,
    tmp_path: Path,
) -> None:
    corpus = live_server.corpus("prefecture-agent", title="Démarches de la ville")
    agent = live_server.user("agent.martin", Role.agent, owns=(corpus,))
    pdf, word = tmp_path / "rentree.pdf", tmp_path / "stationnement.docx"
    write_pdf(pdf, "Allocation de rentrée scolaire", PDF_LINES)
    write_docx(word, "Stationnement résidentiel", DOCX_PARAGRAPHS)

    page = new_context().new_page()
    sign_in(page, agent, next_path="/documents")
    assert page.url.endswith("/documents")
    check(page, "01-my-corpora")
    tab_to(page, f'main a[href="/corpora/{corpus}/documents"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Démarches de la ville")
    check(page, "02-upload-page")

    # The file field is reached by keyboard; the files are then given to the focused field
    # (the native chooser's opening on Space is the browser's, and flaky when headless).
    tab_to(page, "#files")
    page.locator("#files:focus").set_input_files([str(pdf), str(word)])
    page.evaluate(WATCH_STATUSES)
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")

    results = page.locator(".upload-results[role=status]")
    expect(results).to_contain_text("rentree.pdf")
    expect(results).to_contain_text("stationnement.docx")
    rows = page.locator("#documents-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#documents-table .status--indexed")).to_have_count(2, timeout=90_000)
    expect(page.locator("#documents-live")).to_contain_text("rentree.pdf : indexé")
    expect(page.locator("#documents-live")).to_contain_text("stationnement.docx : indexé")
    seen = page.evaluate("() => window.__statusWatch")
    assert seen["statuses"][-1] == "indexé"
    assert any(s != "indexé" for s in seen["statuses"]), f"progress never shown: {seen}"
    check(page, "03-indexed")

    # The documents are searchable at once: each question cites its own document.
    page.goto(f"/?corpus={corpus}")
    ask(page, "Quel est l'âge des enfants pour l'allocation de rentrée scolaire ?")
    first = page.locator("#answers article.answer").last
    expect(first).to_have_class("answer answer--released", timeout=30_000)
    expect(first.locator(".sources")).to_contain_text("rentrée scolaire")
    ask(page, "Que faut-il apporter pour la vignette de stationnement résidentiel ?")
    second = page.locator("#answers article.answer").nth(1)
    expect(second).to_have_class("answer answer--released", timeout=30_000)
    expect(second.locator(".sources")).to_contain_text("Stationnement")
    check(page, "04-answers")
