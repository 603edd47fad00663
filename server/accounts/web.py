"""What the account, course and admin pages share: rendering with a flash message, turning
refusals into the sign-in form or an error page, the audited actor of a page request.

Forms post and redirect (post/redirect/get), so everything works without JavaScript.
An anonymous visitor asking for a protected page gets the sign-in form with status 401;
a signed-in one who may not gets an error page with 403.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from accounts import audit
from accounts.models import User
from accounts.permissions import require_signed_in
from server.errors import DOMAIN_ERRORS, error_page, to_http
from server.i18n import Translator
from server.security.sessions import actor
from server.templating import render

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=enum.StrEnum)


def choice(kind: type[E], value: str) -> E | None:
    """The member of ``kind`` a form sent, or None for anything else."""
    return kind(value) if value in {m.value for m in kind} else None


def render_page(
    request: Request, template: str, tr: Translator, /, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """:func:`server.templating.render`, with the flash message the last redirect left."""
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    return render(request, template, tr, status_code=status_code, flash=flash, **context)


def login_page(request: Request, tr: Translator, status: int, **context: Any) -> HTMLResponse:
    target = request.url.path if request.method == "GET" else ""
    context.setdefault("next", target)
    return render_page(request, "login.html", tr, status_code=status, errors={}, name="", **context)


def html_errors(endpoint: F) -> F:
    """Turn the refusals a page raises into pages: sign-in (401) or an error page."""

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        except DOMAIN_ERRORS as refused:
            error = to_http(refused)
            request: Request = kwargs["request"]
            tr = Translator(kwargs["tr"].language)
            if error.status == 401:
                return login_page(request, tr, 401)
            message = tr(f"error.{error.code}", **error.values)
            return error_page(request, tr, status=error.status, message=message)

    return wrapper  # type: ignore[return-value]


def signed_in(user: User | None) -> User:
    return require_signed_in(user)


def redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def by(request: Request, user: User) -> audit.Actor:
    """``user`` acting through this page request, for the audit log."""
    return actor(request, user, via="web")


def safe_next(target: str | None, fallback: str) -> str:
    # Only paths of this site: "//host" and "/\\host" would leave it.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback
