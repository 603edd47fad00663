"""Make /openapi.json tell every error a route can answer, in the shape it really has.

FastAPI documents what a route declares. What the layers around the routes add is
filled in here, from the routes themselves, so that new routes are covered without
anyone remembering to:

- 401 wherever the caller is identified (a bad bearer token is refused on any route);
- 403 on every state-changing operation (CSRF and cross-site checks);
- 429 with ``Retry-After`` on rate-limited operations;
- 422 in Guichet's error shape (``ErrorOut``), not FastAPI's default one;
- the two ways to authenticate, as security schemes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from starlette.routing import Mount

from server.deps import get_current_user
from server.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
SAFE = {"get", "head", "options"}


@dataclass(frozen=True)
class FlatRoute:
    """One route as the app serves it (with its routers' prefixes)."""

    path: str
    methods: frozenset[str]
    include_in_schema: bool
    dependant: Dependant | None
    mount: bool = False


def flat_routes(app: FastAPI) -> Iterator[FlatRoute]:
    """Every route of ``app``, included routers unfolded.

    FastAPI keeps included routers as nested objects in ``app.routes``; their
    ``effective_route_contexts`` give the routes with their full paths.
    """
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                original = context.original_route
                yield FlatRoute(
                    path=context.path_format,
                    methods=frozenset(context.methods or ()),
                    include_in_schema=bool(context.include_in_schema),
                    dependant=getattr(original, "dependant", None),
                )
        elif isinstance(route, Mount):
            yield FlatRoute(route.path, frozenset(), False, None, mount=True)
        else:
            yield FlatRoute(
                path=getattr(route, "path_format", getattr(route, "path", "")),
                methods=frozenset(getattr(route, "methods", None) or ()),
                include_in_schema=bool(getattr(route, "include_in_schema", False)),
                dependant=getattr(route, "dependant", None),
            )


def _uses(dependant: Dependant, call: Any) -> bool:
    return dependant.call is call or any(_uses(d, call) for d in dependant.dependencies)


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        response["headers"] = headers
    return response


def complete_openapi(app: FastAPI, *, rate_limited: set[tuple[str, str]]) -> None:
    """Wrap ``app.openapi`` so that the description is completed once, when first asked."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        original_schemas = dict(schemas)
        for name, definition in (
            ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            .pop("$defs", {})
            .items()
        ):
            schemas.setdefault(name, definition)
        schemas.setdefault(
            "ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        schemas["ErrorOut"].pop("$defs", None)
        components.setdefault("securitySchemes", {}).update(
            {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`guichet users token NAME`).",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "guichet_session",
                    "description": "The web session; state-changing calls then also need "
                    "the `X-CSRF-Token` header (the page's `csrf-token` meta tag).",
                },
            }
        )
        for route in flat_routes(app):
            if not route.include_in_schema or route.dependant is None:
                continue
            identified = _uses(route.dependant, get_current_user)
            for method in route.methods:
                operation = schema["paths"].get(route.path, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _error("Invalid request")
                if identified:
                    responses.setdefault("401", _error("Not signed in / invalid token"))
                    operation.setdefault("security", [{}, {"bearer": []}, {"session": []}])
                if method.lower() not in SAFE:
                    responses.setdefault(
                        "403", _error("Not allowed, or a cross-site / CSRF check failed")
                    )
                if (method, route.path) in rate_limited:
                    responses.setdefault(
                        "429",
                        _error(
                            "Too many requests",
                            {
                                "Retry-After": {
                                    "description": "Seconds to wait.",
                                    "schema": {"type": "integer"},
                                }
                            },
                        ),
                    )
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
            if f'/{unused}"' in json.dumps(schema):  # still referenced by a route
                schemas[unused] = original_schemas[unused]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
