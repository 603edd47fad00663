"""The whole path for real: CLI, `guichet serve` starting vLLM CPU, HTTP API, first answer.

No fake anywhere: the packaged model served by the real vLLM CPU build, the packaged
embedder, Chroma and SQLite on disk, the app in its own process, questions over HTTP.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.settings import PROJECT_ROOT, Settings
from tests.server.engine.fixtures import free_port

pytestmark = pytest.mark.engine
GUICHET = [sys.executable, "-m", "server"]
QUESTION = "Quels documents faut-il fournir pour refaire une carte d'identité ?"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*GUICHET, *args], env=env, capture_output=True, text=True, timeout=900, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "guichet serve exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail(f"{url} not ready after {timeout_s} s")


def test_serve_starts_vllm_and_answers_with_citation(
    tmp_path: Path, prepared_model_dir: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    # Reuse the model the session already converted instead of converting it again.
    settings.engine_model_dir.parent.mkdir(parents=True)
    settings.engine_model_dir.symlink_to(prepared_model_dir, target_is_directory=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")},
        "GUICHET_DATA_DIR": str(data),
        "GUICHET_ENGINE_PORT": str(free_port()),
        "GUICHET_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
    }
    _run(
        env,
        "corpus",
        "create",
        "demo-procedures",
        "--kind",
        "procedures",
        "--review",
        "never",
        "--title",
        "Mairie de Val-d'Orme",
    )
    ingested = _run(
        env, "ingest", str(PROJECT_ROOT / "corpora/demo/procedures"), "--corpus", "demo-procedures"
    )
    assert "0 échec" in ingested.stdout
    token = (
        _run(
            env,
            "users",
            "add",
            "agent1",
            "--role",
            "agent",
            "--corpus",
            "demo-procedures",
            "--print-token",
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    assert token.startswith("gch_") and " " not in token

    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*GUICHET, "serve"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, timeout_s=900)
        corpora = httpx.get(f"{url}/api/v1/corpora").json()["corpora"]
        assert {
            "name": "demo-procedures",
            "title": "Mairie de Val-d'Orme",
            "kind": "procedures",
        }.items() <= corpora[0].items()

        # One citizen, one client: the session cookie ties the follow-up to the
        # conversation, as the browser does; another caller may not continue it.
        citizen = httpx.Client(base_url=url, timeout=300)
        body = citizen.post(
            "/api/v1/ask", json={"corpus": "demo-procedures", "question": QUESTION}
        ).json()
        assert body["status"] == "released", body
        assert body["answer"]
        titles = [c["title"] for c in body["citations"]]
        assert any("carte nationale d'identité" in t.lower() for t in titles), titles
        assert all(f"[{c['n']}]" in body["answer"] for c in body["citations"])
        # A follow-up goes through the engine (it is asked to make the question stand
        # alone) and is answered about what it asks.
        stranger = httpx.post(
            f"{url}/api/v1/ask",
            timeout=300,
            json={
                "corpus": "demo-procedures",
                "question": "et pour un passeport ?",
                "conversation_id": body["conversation_id"],
            },
        )
        assert stranger.status_code == 404, stranger.text
        followup = citizen.post(
            "/api/v1/ask",
            json={
                "corpus": "demo-procedures",
                "question": "et pour un passeport ?",
                "conversation_id": body["conversation_id"],
            },
        ).json()
        assert followup["status"] == "released", followup
        assert any("passeport" in c["title"].lower() for c in followup["citations"]), followup

        page = citizen.get("/")
        assert page.status_code == 200 and "Poser une question" in page.text
        citizen.close()
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    # The follow-up went through the real engine: tokens were counted by vLLM.
    with sqlite3.connect(data / "guichet.db") as db:
        model, completion = db.execute(
            "SELECT model, completion_tokens FROM answers WHERE id = ?", (followup["answer_id"],)
        ).fetchone()
    assert model == settings.llm_model and completion > 0
    serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Moteur prêt" in serve_log or "Engine ready" in serve_log
