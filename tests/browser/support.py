"""What the browser tests share: the live server, the page checks (axe-core, screenshots,
360 px), the keyboard helpers, and a fake engine reply that behaves like a good model.

The fixtures that hold these are in conftest.py next to this module.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page

from accounts.models import Role
from accounts.users import create_user
from corpora.models import CorpusKind, Document, DocumentStatus, ReviewPolicy
from corpora.repository import add_member, create_corpus, get_corpus
from database import transaction
from server.app import create_app
from server.settings import PROJECT_ROOT, Settings
from server.state import AppState
from tests.fake_engine import FakeEngine

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 740}
PASSWORD = "correct horse battery"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
TIMEOUT_MS = 15_000

_PASSAGE = re.compile(r'<extrait numero="(\d+)"[^>]*>\n(.*?)\n</extrait>', re.S)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_LAST_QUESTION = re.compile(r"(?:Dernière question|Last question) ?: (.*)\n")


def quoting_reply(request: dict[str, Any]) -> str:
    """Like a good model: quote passage 1 and cite it; a follow-up is rewritten as itself."""
    prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
    follow_up = _LAST_QUESTION.search(prompt)
    if follow_up and "<extrait" not in prompt:
        return follow_up.group(1).strip()
    found = _PASSAGE.findall(prompt)
    if not found:
        return "Je ne sais pas."
    sentences = [s.strip() for s in _SENTENCE.split(found[0][1].strip()) if s.strip()]
    lines = [s.rstrip(".!?") + " [1]." for s in sentences[:2] if len(s) > 10]
    return " ".join(lines) or "Je ne sais pas."


@dataclass
class LiveServer:
    """The app running in a uvicorn thread, with helpers to put data in it."""

    url: str
    app: FastAPI
    engine: FakeEngine | None
    _server: uvicorn.Server
    _thread: threading.Thread
    _names: set[str] = field(default_factory=set)

    @property
    def state(self) -> AppState:
        return self.app.state.guichet  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)

    def corpus(
        self, name: str, *, kind: str = "procedures", review: str = "flagged", title: str = ""
    ) -> str:
        with transaction(self.state.sessions) as session:
            create_corpus(
                session=session,
                name=name,
                title=title or name.title(),
                kind=CorpusKind(kind),
                review_policy=ReviewPolicy(review),
            )
        return name

    def user(
        self, name: str, role: Role, *, owns: tuple[str, ...] = (), studies: tuple[str, ...] = ()
    ) -> str:
        with transaction(self.state.sessions) as session:
            user = create_user(session=session, name=name, role=role, password=PASSWORD)
            for corpus_name, member in [(c, "owner") for c in owns] + [
                (c, "student") for c in studies
            ]:
                corpus = get_corpus(session=session, name=corpus_name)
                assert corpus is not None
                add_member(session=session, corpus=corpus, user_id=user.id, role=member)
        return name

    def document(self, corpus: str, filename: str, text: str, timeout_s: float = 60) -> int:
        """Upload a text document and wait until the app's worker has indexed it."""
        with transaction(self.state.sessions) as session:
            target = get_corpus(session=session, name=corpus)
            assert target is not None
            accepted = self.state.documents.accept(
                session=session, corpus=target, filename=filename, data=text.encode()
            )
        self.state.worker.wake()
        self.wait_indexed(accepted.document_id, timeout_s)
        return accepted.document_id

    def wait_indexed(self, document_id: int, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.state.sessions() as session:
                status = session.get_one(Document, document_id).status
            if status == DocumentStatus.indexed:
                return
            assert status != DocumentStatus.failed, f"document {document_id} failed to index"
            time.sleep(0.1)
        raise AssertionError(f"document {document_id} not indexed after {timeout_s} s")


def start_live_server(
    settings: Settings,
    llm_http: httpx.AsyncClient | None,
    engine: FakeEngine | None,
    port: int = 0,
) -> LiveServer:
    """The app on ``port`` (0: any free one; a fixed one when links must name it)."""
    app = create_app(settings, llm_http=llm_http)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    return LiveServer(
        url=f"http://127.0.0.1:{port}", app=app, engine=engine, _server=server, _thread=thread
    )


@dataclass
class AxeReport:
    """Every page axe-core looked at, written out at the end of the session."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.pages, ensure_ascii=False, indent=2, sort_keys=True)
        (SCREENSHOTS / "axe-report.json").write_text(text + "\n", encoding="utf-8")


def run_axe(page: Page) -> dict[str, Any]:
    """axe-core's results for the page as it is now (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self')
        # stays in force for the app while axe gets in.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(  # type: ignore[no-any-return]
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                        resultTypes: ['violations']})""",
        WCAG_TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(n["target"]) for n in v["nodes"][:5]]
        lines.append(f"{v['impact']} {v['id']}: {v['help']} -> {targets}")
    return "\n".join(lines)


def horizontal_overflow(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def wide_elements(page: Page) -> list[str]:
    """What sticks out at the right of a small screen (for the failure message)."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
             .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (e.className && typeof e.className === 'string' ? '.' + e.className : ''))"""
    )


class PageCheck:
    """``check(page, "citizen-01-home")``: axe, screenshots (desktop, 360 px), no h-scroll."""

    def __init__(self, report: AxeReport, persona: str) -> None:
        self.report = report
        self.persona = persona
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, step: str, *, axe: bool = True) -> None:
        page.wait_for_load_state("load")
        name = f"{self.persona}-{step}"
        if axe:
            self._axe(page, name)
        viewport = page.viewport_size or DESKTOP
        page.screenshot(path=str(SCREENSHOTS / f"{name}--desktop.png"), full_page=True)
        page.set_viewport_size(MOBILE)
        try:
            width = horizontal_overflow(page)
            assert width <= MOBILE["width"], (
                f"{name}: {width} px wide at 360 px ({page.url}): {wide_elements(page)}"
            )
            if axe:
                self._axe(page, f"{name}--360px")
            page.screenshot(path=str(SCREENSHOTS / f"{name}--360px.png"), full_page=True)
        finally:
            page.set_viewport_size(viewport)

    def _axe(self, page: Page, name: str) -> None:
        results = run_axe(page)
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
        self.report.pages[name] = {
            "url": page.url,
            "violations": {v["id"]: v["impact"] for v in results["violations"]},
        }
        assert not blocking, f"axe on {name} ({page.url}):\n{describe(blocking)}"


FOCUS_STYLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || '').slice(0, 60),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
          shadow: s.boxShadow !== 'none'};
}"""


def focus_is_visible(page: Page) -> bool:
    style = page.evaluate(FOCUS_STYLE)
    return bool(style and (style["outline"] or style["shadow"]))


def tab_to(page: Page, selector: str, *, max_tabs: int = 80, backwards: bool = False) -> None:
    """Press Tab until the element matching ``selector`` has the focus; its focus must show."""
    target = page.locator(selector).first
    target.wait_for(state="visible")
    for _ in range(max_tabs):
        if target.evaluate("e => e === document.activeElement"):
            style = page.evaluate(FOCUS_STYLE)
            assert focus_is_visible(page), f"no visible focus on {selector}: {style}"
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} never got the focus after {max_tabs} Tab presses")


def sign_in(page: Page, name: str, *, next_path: str = "") -> None:
    """Sign in on the real /login page with the keyboard only."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    tab_to(page, "#name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, f"sign-in of {name} failed: {page.url}"
