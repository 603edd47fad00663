"""Hardening (#16, item 10): what the schemathesis run over the whole OpenAPI found
(scripts/fuzz_openapi.py), kept fixed."""

# ruff: noqa: F811 - fixtures imported from accounts_fixtures are parameters here

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import Role
from tests.server.accounts_fixtures import (  # noqa: F401 - fixtures
    add_user,
    secure_client,
    security_options,
    token_for,
)


def test_a_review_version_past_64_bits_is_refused_not_a_server_error(
    secure_client: TestClient,
) -> None:
    add_user(secure_client, "fuzz-prof", Role.admin)
    bearer = {"Authorization": f"Bearer {token_for(secure_client, 'fuzz-prof')}"}
    for action in ("claim", "release"):
        response = secure_client.post(
            f"/api/v1/reviews/1/{action}", json={"version": 2**70}, headers=bearer
        )
        assert response.status_code == 422, response.text


def test_asking_a_person_documents_its_400(secure_client: TestClient) -> None:
    operation = secure_client.get("/openapi.json").json()["paths"][
        "/api/v1/answers/{answer_id}/human"
    ]["post"]
    assert "400" in operation["responses"]
