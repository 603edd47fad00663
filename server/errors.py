"""Typed errors turned into clear responses, French first."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.i18n import Translator, negotiate

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a catalog key for its message."""

    def __init__(self, status: int, code: str, **values: object) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.values = values


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
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return _respond(request, error.status, error.code, error.values)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
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
