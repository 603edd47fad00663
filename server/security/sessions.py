"""The signed session cookie: its key, signing in and out, the CSRF token it carries, and
who a request comes from (for the audit log and rate limits)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Scope

from accounts import audit
from accounts.models import User
from accounts.users import session_fingerprint
from database import make_engine
from server.schema import upgrade
from server.security.keys import SESSION_KEY, first_session_key, shared_secret
from server.settings import Settings

SESSION_COOKIE = "guichet_session"
# Set in a browser where an account signed in: failed attempts on that account elsewhere
# do not slow this browser down (OWASP's "device cookie"). It grants nothing else.
DEVICE_COOKIE = "guichet_device"
_DEVICES_KEPT = 5


def secret_key(settings: Settings, db: Engine | None = None) -> str:
    """The configured key, or the one every host shares in the database (created by the
    first host that needs it; see keys.py). ``db``: the app's engine, when it is open."""
    if settings.secret_key:
        return settings.secret_key
    engine = db or make_engine(settings.sqlalchemy_url)
    try:
        if db is None:
            upgrade(engine)
        return shared_secret(
            engine=engine, name=SESSION_KEY, candidate=first_session_key(settings.data_dir)
        )
    finally:
        if db is None:
            engine.dispose()


def csrf_token(request: HTTPConnection) -> str:
    """The session's CSRF token, created on first use (the page's ``csrf-token`` meta tag)."""
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


def session_user(request: HTTPConnection, session: Session) -> User | None:
    """The account signed in by the request's session cookie, while that sign-in holds:
    the account active and its sessions not ended since (the fingerprint of its password
    hash and session version). Pages and the menu use the same rule as the API."""
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if not isinstance(user_id, int):
        return None
    account = session.get(User, user_id)
    if (
        account is not None
        and account.active
        and request.session.get("pw") == session_fingerprint(account)
    ):
        return account
    return None


def end_session(request: Request) -> None:
    request.session.clear()


def _device_token(request: Request, name: str) -> str:
    key: bytes = request.app.state.security.address_key
    return hmac.new(key, b"device:" + name.strip().lower().encode(), "sha256").hexdigest()[:32]


def is_known_device(request: Request, name: str) -> bool:
    """Whether ``name`` signed in from this browser before."""
    kept = request.cookies.get(DEVICE_COOKIE, "").split(".")
    return _device_token(request, name) in kept


def remember_device(request: Request, response: Response, name: str) -> None:
    """Mark this browser as one where ``name`` signs in (a year; a few accounts at most)."""
    token = _device_token(request, name)
    kept = [t for t in request.cookies.get(DEVICE_COOKIE, "").split(".") if t and t != token]
    response.set_cookie(
        DEVICE_COOKIE,
        ".".join([token, *kept][:_DEVICES_KEPT]),
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.security.options.secure_cookies,
    )


def client_address(scope: Scope) -> str:
    """The caller's address: the peer's, or, when the peer is a trusted proxy
    (``GUICHET_TRUSTED_PROXIES``), the last address in ``X-Forwarded-For`` that is not one."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    app = scope.get("app")
    security = getattr(getattr(app, "state", None), "security", None)
    trusted = getattr(security, "trusted_proxies", ())
    if not trusted or not _is_in(peer, trusted):
        return peer
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
    ]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_in(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def trusted_networks(setting: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``GUICHET_TRUSTED_PROXIES`` read: addresses and networks, comma-separated."""
    return tuple(
        ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _is_address(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _is_in(value: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        address = ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)


def address_hash(app: Any, scope: Scope) -> str:
    """A keyed, truncated hash of the caller's address: comparable, not reversible."""
    key: bytes = app.state.security.address_key
    return hmac.new(key, client_address(scope).encode(), hashlib.sha256).hexdigest()[:16]


def source(request: Request) -> str:
    return address_hash(request.app, request.scope)


def actor(request: Request, user: User, via: str = "api") -> audit.Actor:
    """``user`` acting through this request (the pages pass ``via="web"``)."""
    return audit.Actor(id=user.id, via=via, source=source(request))
