"""The signed session cookie: its key, signing in and out, the CSRF token it carries, and
who a request comes from (for the audit log and rate limits)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.types import Scope

from accounts import audit
from accounts.models import User
from accounts.users import session_fingerprint
from server.settings import Settings

SESSION_COOKIE = "guichet_session"


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.05)  # the winner has created the file but not written it yet
    raise RuntimeError(f"{path} is empty")


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


def end_session(request: Request) -> None:
    request.session.clear()


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def address_hash(app: Any, scope: Scope) -> str:
    """A keyed, truncated hash of the caller's address: comparable, not reversible."""
    key: bytes = app.state.security.address_key
    return hmac.new(key, client_address(scope).encode(), hashlib.sha256).hexdigest()[:16]


def source(request: Request) -> str:
    return address_hash(request.app, request.scope)


def actor(request: Request, user: User, via: str = "api") -> audit.Actor:
    """``user`` acting through this request (the pages pass ``via="web"``)."""
    return audit.Actor(id=user.id, via=via, source=source(request))
