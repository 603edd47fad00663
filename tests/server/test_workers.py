"""Several app workers at once: nothing that matters lives in one process's memory.

`guichet serve --workers 2` over one data folder. The engine is deliberately absent: with
the embedded model the answers are made of the documents' own sentences and need no
engine, so every answerable question must be answered (not declined) by whichever worker
takes it — a worker that did not see a document indexed by the other would decline it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.settings import PROJECT_ROOT
from tests.server.engine.fixtures import free_port
from tests.storage import Storage

pytestmark = pytest.mark.slow
GUICHET = [sys.executable, "-m", "server"]


def _env(data: Path, port: int, storage: Storage) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    return {
        **env,
        **storage.env(),
        "GUICHET_DATA_DIR": str(data),
        "GUICHET_PORT": str(port),
        "GUICHET_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "GUICHET_LLM_TIMEOUT_S": "3",
    }


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*GUICHET, *args], env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_workers_share_documents_answers_and_sessions(tmp_path: Path, storage: Storage) -> None:
    port = free_port()
    env = _env(tmp_path / "data", port, storage)
    _cli(env, "corpus", "create", "mairie", "--kind", "procedures", "--review", "never")
    token = (
        _cli(env, "users", "add", "agent", "--role", "agent", "--corpus", "mairie", "--print-token")
        .strip()
        .splitlines()[-1]
    )
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*GUICHET, "serve", "--workers", "2"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(1)
        auth = {"Authorization": f"Bearer {token}"}
        text = "# Cantine\n\nLe repas de la cantine scolaire coute 3 euros par jour."
        upload = httpx.post(
            f"{url}/api/v1/corpora/mairie/documents",
            headers=auth,
            files=[("files", ("cantine.md", text.encode(), "text/markdown"))],
        )
        assert upload.status_code == 202, upload.text
        document_id = upload.json()["document_id"]
        deadline = time.monotonic() + 120
        while (
            httpx.get(f"{url}/api/v1/documents/{document_id}", headers=auth).json()["status"]
            != "indexed"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.5)

        statuses = set()
        for _ in range(12):  # fresh connections, spread over both workers
            with httpx.Client(base_url=url, timeout=30) as client:
                body = client.post(
                    "/api/v1/ask",
                    json={"corpus": "mairie", "question": "Combien coute le repas de la cantine ?"},
                )
                statuses.add(body.json()["status"])
                ready = client.get("/readyz")
                assert ready.status_code == 503 and ready.json()["down"] == ["engine"]
        assert statuses == {"released"}

        # A citizen's session cookie works whichever worker answers.
        with httpx.Client(base_url=url, timeout=30) as citizen:
            answer = citizen.post(
                "/api/v1/ask",
                json={"corpus": "mairie", "question": "Combien coute le repas de la cantine ?"},
            ).json()
            for _ in range(6):
                feedback = citizen.post(
                    f"/api/v1/answers/{answer['answer_id']}/feedback", json={"helpful": True}
                )
                assert feedback.status_code == 201, feedback.text
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
