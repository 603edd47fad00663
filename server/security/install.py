"""Installing the security layer on the app: ``install_security`` and its options."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from server.openapi import complete_openapi
from server.security.csrf import CSRFMiddleware
from server.security.headers import SecurityHeadersMiddleware
from server.security.limits import RateLimitMiddleware
from server.security.ratelimit import Rule
from server.security.sessions import SESSION_COOKIE, csrf_token, secret_key, trusted_networks
from server.settings import Settings

# The routes that ask a question, API and pages, streamed or not: one budget for all.
ASKING = (
    ("POST", "/api/v1/ask"),
    ("POST", "/api/v1/ask/stream"),
    ("POST", "/chat/ask"),
    ("POST", "/chat/stream"),
)


@dataclass(frozen=True)
class SecurityOptions:
    """The settings security needs (see ``from_settings`` for their names)."""

    secure_cookies: bool = False
    session_max_age_s: int = 12 * 3600
    ask_per_minute: int = 20
    login_per_minute: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityOptions:
        return cls(
            secure_cookies=settings.secure_cookies,
            session_max_age_s=int(settings.session_max_age_h * 3600),
            ask_per_minute=settings.rate_limit_ask_per_minute,
            login_per_minute=settings.rate_limit_login_per_minute,
        )


@dataclass
class Security:
    """What the security layer keeps on ``app.state.security``."""

    options: SecurityOptions
    address_key: bytes
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    rate_limited: dict[tuple[str, str], Rule] = field(default_factory=dict)

    @property
    def login_rule(self) -> Rule:
        return Rule("login", self.options.login_per_minute)


def security_of(app: Any) -> Security:
    return app.state.security


def install_security(
    app: FastAPI, settings: Settings, *, options: SecurityOptions | None = None
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
        trusted_proxies=trusted_networks(settings.trusted_proxies),
    )
    ask = Rule("ask", options.ask_per_minute)
    security.rate_limited = dict.fromkeys(ASKING, ask)
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
    complete_openapi(app, rate_limited=set(security.rate_limited))


def _session_key(app: FastAPI, settings: Settings) -> str:
    for middleware in app.user_middleware:
        if middleware.cls is SessionMiddleware and "secret_key" in middleware.kwargs:
            return str(middleware.kwargs["secret_key"])
    return secret_key(settings)
