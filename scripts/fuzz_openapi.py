"""Fuzz every operation of the OpenAPI description with seeded data and per-operation
credentials, and report what each operation answered (#16).

    .venv/bin/python scripts/fuzz_openapi.py [--examples 100] [--json report.json]

Seeded: four corpora (two public, two courses), documents, a source, answers asked by a
student (one pending review), accounts of every role and their tokens. Each operation is
sent by the caller who may use it (the asker for an answer's routes, a teacher for a
course's, an admin otherwise); half the generated cases have their path parameters replaced
by ids that exist, so that generated requests reach the operation's logic and not only its
404. Destructive operations get their own seeded objects. Reported per operation: status
codes seen, server errors (5xx) and answers that break the description (status not
documented, body of another shape). The fake engine stands in for vLLM, as in the tests.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import load_all_checks  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role  # noqa: E402
from corpora.repository import get_corpus  # noqa: E402
from corpora.sources.models import SourceKind  # noqa: E402
from corpora.sources.repository import add_source  # noqa: E402
from database import transaction  # noqa: E402
from server.opendata.service import set_open_data  # noqa: E402
from server.security.install import SecurityOptions  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fake_engine import FakeEngine  # noqa: E402
from tests.helpers import add_document, state  # noqa: E402
from tests.server.accounts_fixtures import (  # noqa: E402
    add_user,
    secure_app,
    standard_corpora,
    token_for,
)
from tests.server.test_openapi_fuzz import Fuzz, _send  # noqa: E402


def seed(client: TestClient) -> dict[str, Any]:
    """The objects and callers the operations are sent with."""
    standard_corpora(client)
    ids: dict[str, Any] = {"name": "mairie", "corpus": "svt"}
    users = {
        "admin": add_user(client, "fz-admin", Role.admin),
        "teacher": add_user(client, "fz-prof", Role.teacher, corpora=("svt",)),
        "student": add_user(client, "fz-eleve", Role.student, corpora=("svt",)),
        "victim": add_user(client, "fz-victime", Role.student, corpora=("svt",)),
        "agent": add_user(client, "fz-agent", Role.agent, corpora=("mairie",)),
        "owner": add_user(client, "fz-proprio", Role.teacher, corpora=("histoire",)),
        "outsider": add_user(client, "fz-dehors", Role.student),
    }
    tokens = {
        role: token_for(client, f"fz-{n}")
        for role, n in (
            ("admin", "admin"),
            ("teacher", "prof"),
            ("student", "eleve"),
            ("agent", "agent"),
        )
    }
    ids["user_id"] = users["victim"]
    ids["owner_id"] = users["owner"]
    # A second token of the admin's, for the route that revokes one's tokens.
    ids["token_id"] = _token_id(client, token_for(client, "fz-admin"))
    ids["student_name"] = "fz-dehors"
    invitation = client.post(
        "/api/v1/courses/svt/invitation",
        headers={"Authorization": f"Bearer {tokens['teacher']}"},
    )
    ids["code"] = invitation.json()["code"]
    ids["document_id"] = add_document(client, "mairie", "carte.md", "# Carte\n\nUne photo.")
    ids["spare_document_id"] = add_document(client, "mairie", "spare.md", "# Spare\n\nTexte.")
    add_document(client, "svt", "respiration.md", "# Respiration\n\nLes poumons échangent.")
    with transaction(state(client).sessions) as session:
        mairie = get_corpus(session=session, name="mairie")
        assert mairie is not None
        set_open_data(session=session, corpus=mairie, allowed=True, licence="Licence Ouverte 2.0")
        ids["source_id"] = add_source(
            session=session,
            corpus=mairie,
            kind=SourceKind.website,
            location="https://mairie.invalid/",
            every_s=86400,
        ).id
    asked = client.post(
        "/api/v1/ask",
        json={"corpus": "svt", "question": "Que font les poumons ?"},
        headers={"Authorization": f"Bearer {tokens['student']}"},
    ).json()
    ids["answer_id"] = asked["answer_id"]
    reviews = client.get(
        "/api/v1/reviews", headers={"Authorization": f"Bearer {tokens['teacher']}"}
    ).json()
    items = reviews.get("items") or reviews.get("reviews") or []
    ids["review_id"] = items[0]["id"] if items else 1
    return {"ids": ids, "tokens": tokens}


def _token_id(client: TestClient, token: str) -> int:
    listed = client.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {token}"})
    return int(max(row["id"] for row in listed.json()["tokens"]))


def caller_for(method: str, path: str) -> str:
    if path.startswith("/api/v1/answers/") or path == "/api/v1/courses/join":
        return "student"
    if path.startswith(("/api/v1/courses/", "/api/v1/reviews")):
        return "teacher"
    if path.startswith(("/api/v1/corpora/", "/api/v1/documents", "/api/v1/sources")):
        return "agent"
    return "admin"


def run(examples: int) -> dict[str, Any]:
    engine = FakeEngine(reply=lambda body: "Une photo d'identité est demandée [1].")
    options = SecurityOptions(ask_per_minute=1_000_000, login_per_minute=1_000_000)
    data = Path(tempfile.mkdtemp(prefix="guichet-fuzz-")) / "data"
    app = secure_app(make_settings(data, sync_scheduler=False), engine, options)
    report: dict[str, Any] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        seeded = seed(client)
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
        load_all_checks()
        fuzz = Fuzz(client, schema, seeded["tokens"]["admin"])
        paths = client.get("/openapi.json").json()["paths"]
        # Destructive operations last, so that they do not take what the others need.
        order = sorted(
            ((m.upper(), p) for p, item in paths.items() for m in item),
            key=lambda op: (op[0] in ("DELETE", "PATCH"), op[1]),
        )
        for method, path in order:
            report[f"{method} {path}"] = _fuzz_one(fuzz, seeded, method, path, examples)
    return report


def _fuzz_one(
    fuzz: Fuzz, seeded: dict[str, Any], method: str, path: str, examples: int
) -> dict[str, Any]:
    role = caller_for(method, path)
    headers = {"Authorization": f"Bearer {seeded['tokens'][role]}"}
    ids = dict(seeded["ids"])
    if method == "DELETE" and "{document_id}" in path:
        ids["document_id"] = ids["spare_document_id"]
    if path.startswith("/api/v1/admin/corpora/{corpus}/owners"):
        ids["corpus"], ids["user_id"] = "histoire", ids["owner_id"]
    if path.startswith("/transparence/export"):
        ids["corpus"] = "mairie"
    statuses: collections.Counter[int] = collections.Counter()
    broken: collections.Counter[str] = collections.Counter()
    counter = [0]
    operation = fuzz.schema[path][method]
    operation = operation.ok() if hasattr(operation, "ok") else operation

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Any) -> None:
        counter[0] += 1
        # Revoking one's own tokens: any id but the spare one could be the caller's own.
        every = 1 if path == "/api/v1/me/tokens/{token_id}" else 2
        if case.path_parameters and counter[0] % every == 0:
            for name in list(case.path_parameters):
                if name in ids:
                    case.path_parameters[name] = ids[name]
        if isinstance(case.body, dict) and counter[0] % 2 == 0:
            # Body fields that name things: the seeded ones.
            if "corpus" in case.body:
                case.body["corpus"] = "mairie"
            if path.endswith("/students") and "name" in case.body:
                case.body["name"] = ids["student_name"]
            if path == "/api/v1/courses/join" and "code" in case.body:
                case.body["code"] = ids["code"]
        if case.headers:
            case.headers.pop("Authorization", None)
        response = _send(fuzz, case, headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(
                response,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - counted by kind
            broken[re.sub(r"\s+", " ", str(error))[:160]] += 1

    send()
    return {
        "caller": role,
        "requests": counter[0],
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for code, n in statuses.items() if code >= 500),
        "nonconforming": dict(broken),
    }


def summary(report: dict[str, Any]) -> str:
    lines = [
        "| operation | caller | requests | statuses | 5xx | off-description |",
        "|---|---|---|---|---|---|",
    ]
    only: dict[str, list[str]] = collections.defaultdict(list)
    for name, row in report.items():
        codes = set(row["statuses"])
        for label, group in (("401/403", {401, 403}), ("404", {404}), ("429", {429})):
            if codes and codes <= group:
                only[label].append(name)
        lines.append(
            f"| `{name}` | {row['caller']} | {row['requests']} | "
            + ", ".join(f"{c}×{n}" for c, n in row["statuses"].items())
            + f" | {row['server_errors']} | {sum(row['nonconforming'].values())} |"
        )
    lines.append("")
    lines.append(
        f"operations: {len(report)}; with a server error: "
        f"{sum(1 for r in report.values() if r['server_errors'])}; "
        f"answering off their description: "
        f"{sum(1 for r in report.values() if r['nonconforming'])}"
    )
    for label in ("401/403", "404", "429"):
        lines.append(f"only {label}: {len(only[label])} {sorted(only[label])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.examples)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(summary(report))


if __name__ == "__main__":
    main()
