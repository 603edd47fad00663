"""Hostile input: CSRF, security headers, XSS in documents and answers, uploads, rate limits."""

# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from accounts.models import Role
from corpora import originals
from corpora.models import Document, DocumentVersion
from corpora.repository import get_corpus
from corpora.uploads import UploadError, accept_upload, safe_filename
from database import transaction
from server.security.csrf import CSRFMiddleware
from server.security.install import SecurityOptions
from server.security.ratelimit import Rule, hit
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    FROM_PAGE,
    PASSWORD,
    add_user,
    csrf_of,
    secure_app,
    secure_client,
    security_options,
    sign_in,
    token_for,
)

pytestmark = pytest.mark.usefixtures("steady_rate_windows")
WEB = Path(__file__).resolve().parents[2] / "web" / "templates"
SCRIPT = "<script>alert('xss')</script>"


# -- CSRF ---------------------------------------------------------------------------------------


def test_form_posts_must_prove_they_come_from_our_pages(secure_client: TestClient) -> None:
    add_corpus(secure_client, "mairie")
    add_user(secure_client, "agent", Role.agent)
    token = sign_in(secure_client, "agent")
    form = {"label": "x", "days": "3"}
    missing = secure_client.post("/account/tokens", data=form)
    assert missing.status_code == 403 and "Rechargez la page" in missing.text
    in_the_body = secure_client.post("/account/tokens", data={**form, "csrf_token": token})
    assert in_the_body.status_code == 403  # bodies are never read for the check
    forged = secure_client.post("/account/tokens", data=form, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    forged_from_page = secure_client.post(
        "/account/tokens", data=form, headers={**FROM_PAGE, "X-CSRF-Token": "forged"}
    )
    assert forged_from_page.status_code == 403  # a token sent must be the right one
    assert secure_client.post("/account/tokens", data=form, headers=FROM_PAGE).status_code == 200
    fetched = secure_client.post(
        "/account/tokens", data=form, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert fetched.status_code == 200
    htmx = secure_client.post(
        "/chat/ask",
        data={"corpus": "mairie", "question": "Bonjour ?"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert htmx.status_code == 200
    htmx_forged = secure_client.post(
        "/chat/ask",
        data={"corpus": "mairie", "question": "Bonjour ?"},
        headers={"HX-Request": "true"},
    )
    assert htmx_forged.status_code == 403 and htmx_forged.text.startswith("<p")


async def test_the_csrf_check_never_reads_the_body(secure_client: TestClient) -> None:
    """Refused or let through, the check decides from headers: the body is left unread for
    the route (no buffering of a large upload in the middleware)."""
    add_user(secure_client, "agent", Role.agent)
    sign_in(secure_client, "agent")
    session = {"user_id": 1, "csrf": "the-token"}
    reached: list[str] = []

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await PlainTextResponse("ok")(scope, receive, send)

    async def receive() -> Message:
        raise AssertionError("the CSRF check read the request body")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = CSRFMiddleware(route)
    for headers, status in (
        ([(b"origin", b"http://testserver")], 200),
        ([(b"x-csrf-token", b"the-token")], 200),
        ([(b"content-type", b"multipart/form-data; boundary=x")], 403),
    ):
        sent.clear()
        scope: Scope = {
            "type": "http",
            "method": "POST",
            "path": "/corpora/mairie/documents",
            "headers": [(b"host", b"testserver"), *headers],
            "scheme": "http",
            "server": ("testserver", 80),
            "root_path": "",
            "query_string": b"",
            "session": session,
            "app": secure_client.app,
        }
        await middleware(scope, receive, send)
        assert sent[0]["status"] == status
    assert reached == ["/corpora/mairie/documents"] * 2


def test_json_api_with_a_session_needs_the_header_but_bearer_does_not(
    secure_client: TestClient,
) -> None:
    add_user(secure_client, "agent", Role.agent)
    token = sign_in(secure_client, "agent")
    refused = secure_client.post("/api/v1/me/tokens", json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert (
        secure_client.post(
            "/api/v1/me/tokens", json={}, headers={"X-CSRF-Token": token}
        ).status_code
        == 201
    )
    script = TestClient(secure_client.app)  # no cookie at all
    bearer = {"Authorization": f"Bearer {token_for(secure_client, 'agent')}"}
    assert script.post("/api/v1/me/tokens", json={}, headers=bearer).status_code == 201


def test_cross_site_requests_are_refused(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    token = sign_in(secure_client, "agent")
    for headers in ({"Origin": "https://evil.test"}, {"Sec-Fetch-Site": "cross-site"}):
        response = secure_client.post(
            "/api/v1/me/tokens", json={}, headers={"X-CSRF-Token": token, **headers}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "cross_site"
    same = secure_client.post(
        "/api/v1/me/tokens",
        json={},
        headers={"X-CSRF-Token": token, "Origin": "http://testserver"},
    )
    assert same.status_code == 201


def test_sign_in_always_needs_the_token(secure_client: TestClient) -> None:
    """Login CSRF: a forged form must not sign a victim into the attacker's account."""
    add_user(secure_client, "agent", Role.agent)
    forged = TestClient(secure_client.app).post(
        "/login", data={"name": "agent", "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403


# -- headers and the page's scripts --------------------------------------------------------------


def test_security_headers_and_csp(secure_client: TestClient) -> None:
    response = secure_client.get("/")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers
    api = secure_client.get("/api/v1/corpora").headers
    assert api["x-content-type-options"] == "nosniff" and "content-security-policy" in api


def test_pages_hold_no_inline_script_style_or_hx_on(secure_client: TestClient) -> None:
    add_user(secure_client, "root", Role.admin)
    sign_in(secure_client, "root")
    for path in ("/", "/login", "/account", "/admin", "/join"):
        page = secure_client.get(path).text
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts and all("src=" in tag for tag in scripts), path
        assert not re.search(r"<style\b|\sstyle=|\shx-on|\son[a-z]+=", page), path
        config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', page)
        assert config and '"includeIndicatorStyles":false' in config.group(1)
        assert '"allowEval":false' in config.group(1)
    for template in WEB.glob("*.html"):
        text = template.read_text()
        assert "hx-on" not in text and " style=" not in text, template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "|safe" not in text, template.name


# -- XSS: what documents and the model say is text, never markup -------------------------------


def test_a_document_or_an_answer_with_script_never_runs(
    secure_client: TestClient, fake_engine: FakeEngine
) -> None:
    add_corpus(secure_client, "mairie", review="never")
    add_document(
        secure_client,
        "mairie",
        "piege.md",
        f"# Carte d'identité {SCRIPT}\n\n## Pièces {SCRIPT}\n\n"
        f"Pour la carte d'identité, une photo <img src=x onerror=alert(1)> {SCRIPT}.",
    )
    fake_engine.reply = lambda request: f"Une photo d'identité est demandée {SCRIPT} [1]."
    csrf = csrf_of(secure_client, "/")
    fragment = secure_client.post(
        "/chat/ask",
        data={"corpus": "mairie", "question": f"Carte d'identité {SCRIPT} ?"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert fragment.status_code == 200
    page = secure_client.get("/?corpus=mairie").text
    for served in (fragment.text, page):
        assert "<script>alert" not in served and "<img src=x" not in served
        assert "&lt;script&gt;" in served
    api = secure_client.post(
        "/api/v1/ask", json={"corpus": "mairie", "question": "Carte d'identité photo ?"}
    )
    assert api.headers["content-type"].startswith("application/json")


# -- uploads (service level; HTTP checks join when the upload route lands) -------------------------


def _accept(client: TestClient, filename: str, data: bytes) -> int:
    app_state = state(client)
    with transaction(app_state.sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        return accept_upload(
            session=session,
            corpus=corpus,
            filename=filename,
            data=data,
            max_bytes=app_state.settings.max_upload_bytes,
        ).document_id


def _index_all(client: TestClient) -> list[DocumentVersion]:
    return state(client).documents.index_pending()


def _docx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/bomb.xml", b"\0" * (30 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("notice.pdf", b"MZ\x90\x00" + b"\x00" * 200, "unsupported_format"),  # an .exe
        ("photo.docx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported_format"),
        ("archive.odt", b"PK\x03\x04 not really a zip", "corrupt"),
        ("bombe.docx", _docx_bomb(), "archive_too_large"),
    ],
    ids=["exe-as-pdf", "png-as-docx", "broken-zip", "zip-bomb"],
)
def test_uploads_are_judged_by_content(
    secure_client: TestClient, filename: str, data: bytes, code: str
) -> None:
    add_corpus(secure_client, "mairie")
    _accept(secure_client, filename, data)
    (version,) = _index_all(secure_client)
    assert version.status == "failed" and version.error_code == code


def test_oversized_and_empty_uploads_are_refused(secure_client: TestClient) -> None:
    add_corpus(secure_client, "mairie")
    limit = state(secure_client).settings.max_upload_bytes
    with pytest.raises(UploadError) as too_large:
        _accept(secure_client, "gros.txt", b"a" * (limit + 1))
    assert too_large.value.code == "too_large"
    with pytest.raises(UploadError) as empty:
        _accept(secure_client, "vide.txt", b"   \n")
    assert empty.value.code == "empty"


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..\\..\\windows\\system.ini", "/abs/path/x.md", "a\x00b<>.md", ".."],
)
def test_file_names_never_become_paths(secure_client: TestClient, name: str) -> None:
    """Originals go to the database: a crafted name is cleaned and no file is written."""
    add_corpus(secure_client, "mairie")
    cleaned = safe_filename(name)
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert cleaned not in ("", ".", "..")
    data_dir = state(secure_client).settings.data_dir
    before = {p for p in data_dir.rglob("*") if p.is_file()}
    document_id = _accept(secure_client, name, b"# Titre\n\nDu texte.")
    with transaction(state(secure_client).sessions) as session:
        document = session.get_one(Document, document_id)
        assert document.filename == cleaned
        (version,) = document.versions
        assert version.stored_path is None
        assert originals.read(session=session, version_id=version.id) == b"# Titre\n\nDu texte."
    written = {p for p in data_dir.rglob("*") if p.is_file()} - before
    assert not any(cleaned in p.name for p in written), written


# -- rate limits ----------------------------------------------------------------------------------

LOW = SecurityOptions(ask_per_minute=2, login_per_minute=3)


@pytest.mark.parametrize("security_options", [LOW], ids=["low-limits"])
def test_asking_is_rate_limited(secure_client: TestClient) -> None:
    add_corpus(secure_client, "mairie")
    body = {"corpus": "mairie", "question": "Bonjour ?"}
    statuses = [secure_client.post("/api/v1/ask", json=body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = secure_client.post("/api/v1/ask", json=body)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    # The page shares the caller's budget.
    csrf_of(secure_client, "/")
    page = secure_client.post("/chat/ask", data=body, headers={**FROM_PAGE, "HX-Request": "true"})
    assert page.status_code == 429 and "retry-after" in page.headers
    assert "Patientez" in page.text
    # So do the streamed routes, the ones the chat page's script uses.
    streamed = secure_client.post("/api/v1/ask/stream", json=body)
    assert streamed.status_code == 429
    chat_stream = secure_client.post("/chat/stream", data=body, headers=FROM_PAGE)
    assert chat_stream.status_code == 429
    # Another caller (a token) has a budget of their own.
    add_user(secure_client, "agent", Role.agent)
    bearer = {"Authorization": f"Bearer {token_for(secure_client, 'agent')}"}
    assert secure_client.post("/api/v1/ask", json=body, headers=bearer).status_code == 200


@pytest.mark.parametrize("security_options", [LOW], ids=["low-limits"])
def test_one_rate_limit_for_every_route_that_asks_the_engine(secure_client: TestClient) -> None:
    """Hardening #16, item 3: streamed and plain, page and API draw on one budget."""
    add_corpus(secure_client, "mairie")
    body = {"corpus": "mairie", "question": "Bonjour ?"}
    csrf_of(secure_client, "/")
    streamed = secure_client.post("/chat/stream", data=body, headers=FROM_PAGE)
    assert streamed.status_code == 200
    assert secure_client.post("/api/v1/ask/stream", json=body).status_code == 200
    # Two questions asked, whichever way: the budget of two is spent for every route.
    for method, path, kwargs in (
        ("POST", "/api/v1/ask", {"json": body}),
        ("POST", "/api/v1/ask/stream", {"json": body}),
        ("POST", "/chat/ask", {"data": body, "headers": FROM_PAGE}),
        ("POST", "/chat/stream", {"data": body, "headers": FROM_PAGE}),
    ):
        refused = secure_client.request(method, path, **kwargs)  # type: ignore[arg-type]
        assert refused.status_code == 429, path
        assert 1 <= int(refused.headers["retry-after"]) <= 60


@pytest.mark.parametrize("security_options", [LOW], ids=["low-limits"])
def test_sign_in_is_rate_limited(secure_client: TestClient) -> None:
    add_user(secure_client, "agent", Role.agent)
    csrf_of(secure_client, "/login")
    statuses = [
        secure_client.post(
            "/login", data={"name": "agent", "password": "guess number x"}, headers=FROM_PAGE
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    blocked = secure_client.post(
        "/login", data={"name": "agent", "password": PASSWORD}, headers=FROM_PAGE
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


def test_rate_limit_counter_is_shared_by_workers(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    """Two app instances (two workers) on one database share one budget."""
    first, second = secure_app(settings, fake_engine, LOW), secure_app(settings, fake_engine, LOW)
    with TestClient(first) as one, TestClient(second) as two:
        add_corpus(one, "mairie")
        body = {"corpus": "mairie", "question": "Bonjour ?"}
        assert one.post("/api/v1/ask", json=body).status_code == 200
        assert two.post("/api/v1/ask", json=body).status_code == 200
        assert one.post("/api/v1/ask", json=body).status_code == 429
        assert two.post("/api/v1/ask", json=body).status_code == 429


def test_fixed_windows(secure_client: TestClient) -> None:
    engine = state(secure_client).db
    rule = Rule("unit", limit=2, window_s=60)
    assert [hit(engine, rule, "x", now=120.0) for _ in range(2)] == [None, None]
    assert hit(engine, rule, "x", now=150.0) == 30
    assert hit(engine, rule, "x", now=180.0) is None  # a new window
    assert hit(engine, Rule("off", limit=0), "x") is None
