"""The rate limits of the routes that ask for them (today: asking a question), as a
middleware answering 429 with ``Retry-After`` past the limit."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.security.headers import refusal
from server.security.ratelimit import hit
from server.security.sessions import address_hash

log = logging.getLogger(__name__)


class RateLimitMiddleware:
    """Counts the requests of the routes in ``Security.rate_limited``; 429 past the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        rule = application.state.security.rate_limited.get((scope["method"], scope.get("path", "")))
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
