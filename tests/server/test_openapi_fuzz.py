"""Fuzz the whole JSON API from its own OpenAPI description (schemathesis).

One test per operation, read from the app when the tests are collected, so that new
routes are fuzzed without editing this file. Each operation gets a bounded number of
generated requests, sent twice: as an admin with a bearer token (which reaches deep into
the routes) and anonymously. No answer may be a server error, and every answer must match
what the description says (status documented, body of the documented shape).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from server.app import create_app
from server.security.install import SecurityOptions
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.server.accounts_fixtures import add_user, secure_app, standard_corpora, token_for
from tests.storage import new_storage

EXAMPLES = 12  # per operation and caller: the whole file stays well under two minutes


def _operations() -> list[tuple[str, str]]:
    app = create_app(make_settings(Path("/nonexistent"), secret_key="collect"))
    paths = app.openapi()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


OPERATIONS = _operations()


class Fuzz:
    def __init__(self, client: TestClient, schema: Any, admin_token: str) -> None:
        self.client = client
        self.schema = schema
        self.admin_token = admin_token


@pytest.fixture(scope="module")
def fuzz(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Fuzz]:
    storage = new_storage(request)
    # Sources the fuzzer adds are never run: their made-up hosts must not be looked up.
    settings = make_settings(
        tmp_path_factory.mktemp("fuzz") / "data", sync_scheduler=False, **storage.settings()
    )
    engine = FakeEngine(reply=lambda body: "Une photo d'identité est demandée [1].")
    options = SecurityOptions(ask_per_minute=100_000, login_per_minute=100_000)
    app = secure_app(settings, engine, options)
    with TestClient(app, raise_server_exceptions=False) as client:
        standard_corpora(client)
        add_user(client, "fuzz-admin", Role.admin)
        token = token_for(client, "fuzz-admin")
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
        load_all_checks()
        yield Fuzz(client, schema, token)


def _send(fuzz: Fuzz, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
    ).prepare()
    fuzz.client.cookies.clear()
    return fuzz.client.request(
        prepared.method or "GET",
        prepared.url or "/",
        headers=dict(prepared.headers),
        content=prepared.body,
        follow_redirects=False,
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("caller", ["admin", "anonymous"])
def test_operation_survives_fuzzing(fuzz: Fuzz, method: str, path: str, caller: str) -> None:
    operation = (
        fuzz.schema[path][method].ok()
        if hasattr(fuzz.schema[path][method], "ok")
        else (fuzz.schema[path][method])
    )
    headers = {"Authorization": f"Bearer {fuzz.admin_token}"} if caller == "admin" else {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        if caller == "admin" and case.headers:
            case.headers.pop("Authorization", None)
        response = _send(fuzz, case, headers)
        assert response.status_code < 500, (response.status_code, response.text[:300])
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )

    run()
