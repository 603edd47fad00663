"""CSRF protection from the request's headers alone: bodies are never read here.

A state-changing request that carries an ambient credential (a signed-in session, or any
session cookie on a page route) must prove it comes from our own pages, in one of two
ways, both of which a page on another site cannot produce:

- the ``X-CSRF-Token`` header holds the session's token (htmx, web/static/guichet.js and
  scripts read it from the page's ``csrf-token`` meta tag);
- the browser says so: ``Sec-Fetch-Site: same-origin``, or an ``Origin`` equal to this
  host (what every current browser sends with a plain form post).

Sign-in is always checked (a forged one would sign the victim into someone else's
account). Bearer-token calls are exempt: browsers never send those by themselves. A
request the browser marks as cross-site is refused outright, token or not. A JSON call
whose session only holds a citizen's id acts as nobody in particular (and browsers refuse
to send JSON cross-site without CORS), so scripts with a cookie jar keep working.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.security.headers import refusal
from server.security.sessions import SESSION_COOKIE

log = logging.getLogger(__name__)

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Paths whose posts need the proof even without a session cookie (login CSRF).
ALWAYS_CHECKED = frozenset({"/login"})


def _same_host(origin: str, headers: Headers) -> bool:
    return origin != "null" and urlsplit(origin).netloc == headers.get("host", "")


def cross_site(headers: Headers) -> bool:
    """True when the browser says the request comes from another site."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = headers.get("origin")
    return origin is not None and not _same_host(origin, headers)


def from_our_pages(headers: Headers) -> bool:
    """True when browser-set headers show the request comes from this site's pages."""
    if headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = headers.get("origin")
    return origin is not None and _same_host(origin, headers)


def needs_proof(scope: Scope, headers: Headers) -> bool:
    """Whether the request carries a credential worth forging (see the module docstring)."""
    session = scope.get("session") or {}
    path = scope.get("path", "")
    signed_in = isinstance(session.get("user_id"), int)
    has_cookie = SESSION_COOKIE in Request(scope).cookies
    return path in ALWAYS_CHECKED or signed_in or (has_cookie and not path.startswith("/api/"))


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
        if cross_site(headers):
            await refusal(Request(scope), 403, "cross_site")(scope, receive, send)
            return
        if needs_proof(scope, headers) and not self._proven(scope, headers):
            log.info("CSRF check failed on %s %s", scope["method"], scope.get("path"))
            await refusal(Request(scope), 403, "csrf_failed")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _proven(scope: Scope, headers: Headers) -> bool:
        supplied = headers.get(CSRF_HEADER)
        if supplied is None:
            return from_our_pages(headers)
        expected = (scope.get("session") or {}).get("csrf")
        return isinstance(expected, str) and secrets.compare_digest(
            expected.encode(), supplied.encode()
        )
