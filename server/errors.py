"""Typed errors turned into clear responses, French first."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error_body(request, error.code, **error.values), error.status)

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
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthenticated",
            403: "forbidden",
        }.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(request, code), error.status_code, headers=getattr(error, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(request, "internal"), 500)
