"""Typed errors turned into clear responses, French first.

Services raise the errors of their domain (``AccountError``, ``NotAllowed``,
``CorpusError``, ``ReviewError``, ``AnswerHidden``, ``AskError``, ``OpenDataError``);
:func:`to_http` is the one place that decides their HTTP status, and the handlers of
:func:`install_error_handlers` answer with a page for a person's browser, a fragment for
htmx, or JSON for programs.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts.errors import AccountError, NotAllowed
from corpora.repository import CorpusError
from review.access import AnswerHidden
from review.queue import ReviewError
from server.answers.pipeline import AskError
from server.i18n import Translator, negotiate
from server.opendata.service import OpenDataError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a catalog key for its message."""

    def __init__(self, status: int, code: str, **values: object) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.values = values


# AccountError and CorpusError codes that mean "no such thing (for you)" or "not yours to
# ask"; their other codes are broken rules (400).
_NOT_FOUND = {
    "unknown_token",
    "unknown_user",
    "unknown_member",
    "no_invitation",
    "unknown_corpus",
    "unknown_document",
    "unknown_source",
}
_FORBIDDEN = {"only_students_join"}


DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    ApiError,
    NotAllowed,
    AccountError,
    CorpusError,
    ReviewError,
    AnswerHidden,
    AskError,
    OpenDataError,
)


def to_http(error: Exception) -> ApiError:
    """The HTTP status and message of a domain error: decided here, and only here."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, NotAllowed):
        return ApiError(403 if error.signed_in else 401, error.code)
    if isinstance(error, AccountError | CorpusError):
        details = getattr(error, "details", {})
        if error.code in _NOT_FOUND:
            return ApiError(404, error.code, **details)
        return ApiError(403 if error.code in _FORBIDDEN else 400, error.code, **details)
    if isinstance(error, ReviewError):
        return ApiError(error.status, error.code, **error.details)
    if isinstance(error, AnswerHidden | AskError):
        return ApiError(404, error.code)
    if isinstance(error, OpenDataError):
        return ApiError(404 if error.code == "not_open_data" else 400, error.code, **error.details)
    raise TypeError(f"not a domain error: {error!r}")


def translator(request: Request) -> Translator:
    return Translator(
        negotiate(request.headers.get("accept-language"), request.cookies.get("guichet_lang"))
    )


def error_body(request: Request, code: str, **values: object) -> dict[str, object]:
    return {"error": {"code": code, "message": translator(request)(f"error.{code}", **values)}}


def wants_page(request: Request) -> bool:
    """A person's browser asking for a page (not the API, not an htmx fragment request)."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or path in ("/openapi.json", "/healthz", "/readyz"):
        return False
    return "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers


def error_page(request: Request, tr: Translator, *, status: int, message: str) -> HTMLResponse:
    """The error as a whole page with a way home, or as a fragment for htmx to swap in."""
    fragment = "hx-request" in request.headers
    return request.app.state.templates.TemplateResponse(
        request,
        "_error.html" if fragment else "error.html",
        {"t": tr, "lang": tr.language, "message": message, "status": status},
        status_code=status,
    )


def _respond(
    request: Request,
    status: int,
    code: str,
    values: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error as a page for a person's browser, else as JSON for programs."""
    values = values or {}
    if wants_page(request) and "session" in request.scope:
        tr = translator(request)
        page = error_page(request, tr, status=status, message=tr(f"error.{code}", **values))
        page.headers.update(headers or {})
        return page
    return JSONResponse(error_body(request, code, **values), status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def _domain_error(request: Request, error: Exception) -> Response:
        http = to_http(error)
        return _respond(request, http.status, http.code, http.values)

    for error_class in DOMAIN_ERRORS:
        app.add_exception_handler(error_class, _domain_error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "blank_question" for e in error.errors()):
            return JSONResponse(error_body(request, "blank_question"), 422)
        fields = ", ".join(
            ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            for e in error.errors()
        )
        body = error_body(request, "invalid_request", fields=fields)
        body["error"]["details"] = [  # type: ignore[index]
            {"loc": list(e.get("loc", ())), "type": e.get("type")} for e in error.errors()
        ]
        return JSONResponse(body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthenticated",
            403: "forbidden",
        }.get(error.status_code, "http_error")
        headers = getattr(error, "headers", None)
        return _respond(request, error.status_code, code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(request, 500, "internal")
