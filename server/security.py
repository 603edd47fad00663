"""Web security in one place: session cookie, CSRF, security headers, rate limits.

``install_security(app, settings)`` adds, from the outside in:

1. security headers on every response (a Content-Security-Policy without inline script,
   which htmx respects once configured by the ``htmx-config`` meta tag of base.html);
2. the signed session cookie (http-only, same-site, secure when served over HTTPS);
3. CSRF protection of every state-changing request that carries a session cookie (and
   of sign-in, always): the session's token must come back in the ``X-CSRF-Token``
   header (htmx and scripts; web/static/guichet.js sets it) or in the ``csrf_token``
   form field (plain forms). Bearer-token calls are exempt: browsers never send those
   by themselves. Cross-site requests (Fetch metadata, Origin) are refused outright;
4. rate limits on asking questions, counted in the database (see server/ratelimit.py).

What needs the token: every state-changing request of a signed-in session; page posts
that carry a session cookie (a citizen's too); sign-in, always (a forged one would sign
the victim into someone else's account). A request without a session cookie, or a JSON
API call whose session only holds a citizen's id, carries no ambient credential worth
forging and is not asked for one; cross-site requests are refused all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from anyio import to_thread
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.accounts import User, session_fingerprint
from server.errors import error_body, translator
from server.ratelimit import Rule, hit

log = logging.getLogger(__name__)

SESSION_COOKIE = "guichet_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Paths whose posts need a CSRF token even without a session cookie (login CSRF).
ALWAYS_CHECKED = frozenset({"/login"})
# Largest body read to find a form's CSRF field (uploads send the header instead).
MAX_FORM_SCAN = 64 * 1024 * 1024

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# FastAPI's /docs and /redoc pages load their scripts from a CDN and configure them inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


@dataclass(frozen=True)
class SecurityOptions:
    """The settings security needs (see ``from_settings`` for their names)."""

    secure_cookies: bool = False
    session_max_age_s: int = 12 * 3600
    ask_per_minute: int = 20
    login_per_minute: int = 10

    @classmethod
    def from_settings(cls, settings: Any) -> SecurityOptions:
        # getattr: these fields are proposed for server/settings.py; defaults until they land.
        return cls(
            secure_cookies=bool(getattr(settings, "secure_cookies", False)),
            session_max_age_s=int(float(getattr(settings, "session_max_age_h", 12)) * 3600),
            ask_per_minute=int(getattr(settings, "rate_limit_ask_per_minute", 20)),
            login_per_minute=int(getattr(settings, "rate_limit_login_per_minute", 10)),
        )


@dataclass
class Security:
    """What the security layer keeps on ``app.state.security``."""

    options: SecurityOptions
    address_key: bytes
    rate_limited: dict[tuple[str, str], Rule] = field(default_factory=dict)

    @property
    def login_rule(self) -> Rule:
        return Rule("login", self.options.login_per_minute)


def security_of(app: Any) -> Security:
    return app.state.security


# -- sessions and CSRF tokens ------------------------------------------------------------


def csrf_token(request: HTTPConnection) -> str:
    """The session's CSRF token, created on first use (templates call it)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def start_session(request: Request, user: User) -> None:
    """Sign ``user`` in: a fresh session (against fixation) holding their id."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["pw"] = session_fingerprint(user)
    csrf_token(request)


def refresh_session(request: Request, user: User) -> None:
    """Keep this session valid after the user changed their own password."""
    request.session["pw"] = session_fingerprint(user)


def end_session(request: Request) -> None:
    request.session.clear()


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def address_hash(app: Any, scope: Scope) -> str:
    key = security_of(app).address_key
    return hmac.new(key, client_address(scope).encode(), hashlib.sha256).hexdigest()[:16]


# -- responses from the middleware ---------------------------------------------------------


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def refusal(
    request: Request, status: int, code: str, headers: dict[str, str] | None = None
) -> Response:
    """An error as JSON for the API, as an HTML partial or page for the web pages."""
    if _wants_json(request):
        return JSONResponse(error_body(request, code), status, headers=headers)
    tr = translator(request)
    templates = request.app.state.templates
    name = "_error.html" if "hx-request" in request.headers else "error.html"
    return templates.TemplateResponse(
        request,
        name,
        {"t": tr, "lang": tr.language, "message": tr(f"error.{code}")},
        status_code=status,
        headers=headers,
    )


# -- middleware -----------------------------------------------------------------------------


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP
        static = path.startswith(("/static/", "/vendor/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {
                    "Content-Security-Policy": csp,
                    "X-Content-Type-Options": "nosniff",
                    "X-Frame-Options": "DENY",
                    "Referrer-Policy": "same-origin",
                    "Permissions-Policy": PERMISSIONS_POLICY,
                    "Cross-Origin-Opener-Policy": "same-origin",
                    "Cross-Origin-Resource-Policy": "same-origin",
                }
                if self.hsts:
                    defaults["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if not static:
                    # Pages and answers are personal: no shared cache may keep them.
                    defaults["Cache-Control"] = "no-store"
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class CSRFMiddleware:
    """Refuses state-changing browser requests that do not prove they come from our pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("authorization", "").lower().startswith("bearer "):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not _same_origin(headers):
            await refusal(request, 403, "cross_site")(scope, receive, send)
            return
        session = scope.get("session") or {}
        path = scope.get("path", "")
        signed_in = isinstance(session.get("user_id"), int)
        has_cookie = SESSION_COOKIE in request.cookies
        # A JSON call whose session holds only a citizen's id acts as nobody in particular
        # (and browsers refuse to send JSON cross-site without CORS): scripts with a
        # cookie jar keep working. Pages with a session, and anything signed in, are checked.
        if not (
            path in ALWAYS_CHECKED or signed_in or (has_cookie and not path.startswith("/api/"))
        ):
            await self.app(scope, receive, send)
            return
        expected = session.get("csrf")
        supplied = headers.get(CSRF_HEADER)
        if supplied is None:
            content_type = headers.get("content-type", "")
            if content_type.startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                body = await _read_body(receive, MAX_FORM_SCAN)
                if body is not None:
                    receive = _replay(body, receive)
                    supplied = await _form_field(scope, body, content_type)
        if not (
            isinstance(expected, str)
            and supplied
            and secrets.compare_digest(expected.encode(), supplied.encode())
        ):
            log.info("CSRF check failed on %s %s", scope["method"], scope.get("path"))
            await refusal(request, 403, "csrf_failed")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same_origin(headers: Headers) -> bool:
    """False when the browser says the request comes from another site."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")


async def _form_field(scope: Scope, body: bytes, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=1000)
        found = values.get(CSRF_FIELD)
        return found[0] if found else None
    request = Request(scope, receive=_replay(body, _never))
    try:
        async with request.form(max_files=1000, max_fields=1000) as form:
            value = form.get(CSRF_FIELD)
            return value if isinstance(value, str) else None
    except Exception:  # noqa: BLE001 - a malformed form simply has no token
        return None


async def _never() -> Message:
    return {"type": "http.disconnect"}


class RateLimitMiddleware:
    """Counts the requests of the routes in ``Security.rate_limited``; 429 past the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        rule = security_of(application).rate_limited.get((scope["method"], scope.get("path", "")))
        if rule is None or rule.limit <= 0:
            await self.app(scope, receive, send)
            return
        identity = caller_identity(application, scope)
        engine = application.state.guichet.db
        wait = await to_thread.run_sync(hit, engine, rule, identity)
        if wait is not None:
            log.info("rate limit %s reached", rule.name)
            response = refusal(Request(scope), 429, "rate_limited", {"Retry-After": str(wait)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def caller_identity(app: Any, scope: Scope) -> str:
    """Who to count: the token, the signed-in user, else the (hashed) address.

    A citizen's session id is not used: dropping the cookie would reset the count.
    """
    headers = Headers(scope=scope)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    user_id = scope.get("session", {}).get("user_id")
    if isinstance(user_id, int):
        return f"user:{user_id}"
    return "address:" + address_hash(app, scope)


# -- installation -----------------------------------------------------------------------------


def install_security(
    app: FastAPI, settings: Any, *, options: SecurityOptions | None = None
) -> None:
    """Add sessions, CSRF, headers and rate limits to ``app`` (idempotent without options).

    Call it in ``create_app`` after the routers are included; it replaces any session
    middleware installed before so that the cookie's flags are decided here.
    """
    if getattr(app.state, "security", None) is not None:
        if options is None:
            return
        # Installed already (create_app does it): tests that want other limits or cookie
        # flags replace the layer, which is possible until the app serves its first request.
        ours = (RateLimitMiddleware, CSRFMiddleware, SessionMiddleware, SecurityHeadersMiddleware)
        app.user_middleware = [m for m in app.user_middleware if m.cls not in ours]
    options = options or SecurityOptions.from_settings(settings)
    key = _session_key(app, settings)
    security = Security(
        options=options,
        address_key=hashlib.sha256(b"guichet-address:" + key.encode()).digest(),
    )
    ask = Rule("ask", options.ask_per_minute)
    security.rate_limited = {("POST", "/api/v1/ask"): ask, ("POST", "/chat/ask"): ask}
    app.state.security = security
    app.user_middleware = [m for m in app.user_middleware if m.cls is not SessionMiddleware]
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(CSRFMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie=SESSION_COOKIE,
        max_age=options.session_max_age_s,
        same_site="lax",
        https_only=options.secure_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=options.secure_cookies)
    templates = getattr(app.state, "templates", None)
    if templates is not None:
        templates.env.globals["csrf_token"] = csrf_token
    from server.openapi import complete_openapi

    complete_openapi(app, rate_limited=set(security.rate_limited))


def _session_key(app: FastAPI, settings: Any) -> str:
    for middleware in app.user_middleware:
        if middleware.cls is SessionMiddleware and "secret_key" in middleware.kwargs:
            return str(middleware.kwargs["secret_key"])
    from server.app import secret_key  # here: server.app imports this module

    return secret_key(settings)
