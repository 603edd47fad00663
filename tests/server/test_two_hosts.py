"""Two app hosts behind one address, sharing only PostgreSQL, a Chroma server and the
engine: what is done on one is what the other serves.

Each host is a real `guichet serve` process with its own data folder (nothing on disk is
shared); the suite starts PostgreSQL, Chroma and one vLLM CPU engine for both. The agent
and the citizen each use one HTTP client for both hosts, as a browser behind a load
balancer would: the session cookie one host sets is sent to the other.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.engine.process import EmbeddedEngine
from server.settings import PROJECT_ROOT
from tests.chroma import ChromaServer
from tests.postgres import PostgresServer
from tests.server.engine.fixtures import free_port

pytestmark = pytest.mark.engine
GUICHET = [sys.executable, "-m", "server"]
PASSWORD = "deux serveurs, une mairie"
QUESTION = "Quels sont les horaires et le tarif de la piscine municipale ?"
POOL = (
    "# Piscine municipale\n\n## Horaires et tarif\n\n"
    "La piscine municipale de Val-d'Orme est ouverte du mardi au dimanche, de 10 h à 19 h. "
    "Une entrée coûte {price} euros ; l'entrée est gratuite pour les moins de six ans.\n"
)


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*GUICHET, *args], env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def _host(env: dict[str, str], log: Path) -> Iterator[str]:
    """A `guichet serve` process, ready; yields its address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*GUICHET, "serve"],
            env={**env, "GUICHET_PORT": str(port)},
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while True:
                assert server.poll() is None, log.read_text(errors="replace")
                try:
                    if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(1)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(30)


def _until(check: Callable[[], Any], what: str, timeout_s: float = 180) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_what_one_host_does_the_other_serves(
    tmp_path: Path,
    postgres_server: PostgresServer,
    chroma_server: ChromaServer,
    embedded_engine: EmbeddedEngine,
) -> None:
    shared = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")},
        "GUICHET_DATABASE_URL": postgres_server.create_database(),
        "GUICHET_CHROMA_URL": chroma_server.url,
        "GUICHET_CHROMA_DATABASE": chroma_server.new_database(),
        "GUICHET_LLM_BASE_URL": embedded_engine.base_url,
        "GUICHET_LLM_MODEL": embedded_engine.served_model_name,
        # Shared by every subprocess of the suite, so the passages are embedded once.
        "GUICHET_EMBEDDING_CACHE": os.environ["GUICHET_EMBEDDING_CACHE"],
        "HF_HUB_OFFLINE": "1",
    }  # no GUICHET_SECRET_KEY: the hosts must agree on the one kept in the database
    env_a = {**shared, "GUICHET_DATA_DIR": str(tmp_path / "host-a")}
    env_b = {**shared, "GUICHET_DATA_DIR": str(tmp_path / "host-b")}
    _run(env_a, "corpus", "create", "piscine", "--kind", "procedures", "--review", "always")
    _run(env_a, "export", "allow", "--corpus", "piscine", "--licence", "Licence Ouverte 2.0")
    token = (
        _run(
            {**env_a, "GUICHET_NEW_PASSWORD": PASSWORD},
            *("users", "add", "agent1", "--role", "agent", "--corpus", "piscine"),
            "--print-token",
        )
        .strip()
        .splitlines()[-1]
    )
    bearer = {"Authorization": f"Bearer {token}"}

    with ExitStack() as stack:
        a = stack.enter_context(_host(env_a, tmp_path / "host-a.log"))
        b = stack.enter_context(_host(env_b, tmp_path / "host-b.log"))
        agent = stack.enter_context(httpx.Client(timeout=60))
        citizen = stack.enter_context(httpx.Client(timeout=300))

        def ask_on_b() -> dict[str, Any]:
            asked = citizen.post(
                f"{b}/api/v1/ask", json={"corpus": "piscine", "question": QUESTION}
            )
            assert asked.status_code == 200, asked.text
            return dict(asked.json())

        def review_of(host: str, answer_id: str) -> dict[str, Any]:
            reviews = agent.get(f"{host}/api/v1/reviews", headers=bearer).json()["reviews"]
            return dict(next(r for r in reviews if r["answer_id"] == answer_id))

        def published_on_b() -> str:
            return citizen.get(f"{b}/transparence/export/piscine/verified.jsonl").text

        # The agent signs in on A; B honours the cookie (one key, kept in the database).
        login = agent.get(f"{a}/login").text
        assert re.search(r'<meta name="csrf-token" content="[^"]+"', login)
        signed_in = agent.post(
            f"{a}/login",
            data={"name": "agent1", "password": PASSWORD},
            headers={"Origin": a},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        account = agent.get(f"{b}/account", follow_redirects=False)
        assert account.status_code == 200 and "agent1" in account.text
        assert not (tmp_path / "host-a" / "secret_key").exists()

        # Uploaded on A, indexed by whichever host's worker took it, seen on B.
        v1 = POOL.format(price=3).encode()
        sent = agent.post(
            f"{a}/api/v1/corpora/piscine/documents",
            headers=bearer,
            files=[("files", ("piscine.md", v1, "text/markdown"))],
        )
        assert sent.status_code == 202, sent.text
        doc = sent.json()["document_id"]

        def indexed(version: int) -> Callable[[], bool]:
            def check() -> bool:
                body = agent.get(f"{b}/api/v1/documents/{doc}", headers=bearer).json()
                assert body["status"] != "failed", body
                return bool(body["indexed_version"] == version)

            return check

        _until(indexed(1), "version 1 never indexed")
        assert citizen.get(f"{b}/api/v1/documents/{doc}/original").content == v1
        page = citizen.get(f"{b}/documents/{doc}")
        assert page.status_code == 200 and "10 h à 19 h" in page.text

        # Asked on B, held for review, approved on A and kept as verified: B serves it.
        first = ask_on_b()
        assert first["status"] == "pending_review", first
        review = review_of(a, first["answer_id"])
        assert {str(c["document_id"]) for c in review["citations"]} == {str(doc)}, review
        approved = agent.post(
            f"{a}/api/v1/reviews/{review['id']}/approve",
            headers=bearer,
            json={"version": review["version"], "save_verified": True},
        )
        assert approved.status_code == 200, approved.text
        released = citizen.get(f"{b}/api/v1/answers/{first['answer_id']}").json()
        assert released["status"] == "released" and released["answer"], released
        assert [str(c["document_id"]) for c in released["citations"]] == [str(doc)]
        reused = ask_on_b()
        assert reused["status"] == "released" and reused["verified"], reused
        assert QUESTION in published_on_b()  # the open-data export, from B

        # A new version on A: B shows and cites it, and the verified answer is withdrawn.
        v2 = POOL.format(price=4).encode()
        agent.post(
            f"{a}/api/v1/corpora/piscine/documents",
            headers=bearer,
            files=[("files", ("piscine.md", v2, "text/markdown"))],
        )
        _until(indexed(2), "version 2 never indexed")
        assert citizen.get(f"{b}/api/v1/documents/{doc}/original").content == v2
        page = citizen.get(f"{b}/documents/{doc}").text
        assert "4 euros" in page and "3 euros" not in page
        held = ask_on_b()
        assert held["status"] == "pending_review" and not held["verified"], held
        assert QUESTION not in published_on_b()
        review = review_of(b, held["answer_id"])
        cited = " ".join(c["excerpt"] for c in review["citations"])
        assert "4 euros" in cited and "3 euros" not in cited, review

        # Deleted on A: gone on B, its page, its original and its passages.
        gone = agent.delete(f"{a}/api/v1/documents/{doc}", headers=bearer)
        assert gone.status_code == 204
        assert agent.get(f"{b}/api/v1/documents/{doc}", headers=bearer).status_code == 404
        assert citizen.get(f"{b}/api/v1/documents/{doc}/original").status_code == 404
        assert citizen.get(f"{b}/documents/{doc}").status_code == 404
        assert all(str(c["document_id"]) != str(doc) for c in ask_on_b()["citations"])
