"""Hardening (#16, item 1): the embedded engine is restarted after a crash, and no engine
process outlives `guichet serve`.

For real: `guichet serve` starts vLLM CPU in its own process group; the test kills the
engine with SIGKILL as the out-of-memory killer would, waits for the supervisor to bring it
back, asks again through the app, then ends `guichet serve` with SIGTERM and looks for any
process left in the engine's group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.engine.children import group_has_live_members, signal_group
from server.settings import PROJECT_ROOT, Settings
from tests.server.engine.fixtures import free_port

pytestmark = pytest.mark.engine
GUICHET = [sys.executable, "-m", "server"]
QUESTION = "Quels documents faut-il fournir pour refaire une carte d'identité ?"
WAIT_S = 900  # a deadline for waiting, not a duration under test


@dataclass
class Served:
    url: str
    data: Path
    process: subprocess.Popen[bytes]
    log: Path

    def engine_status(self) -> dict[str, object]:
        return dict(json.loads((self.data / "engine-status.json").read_text()))

    def ready(self) -> httpx.Response | None:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=10)
        except httpx.HTTPError:
            return None

    def wait_for(self, condition: str, check: object) -> dict[str, object]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            response = self.ready()
            if response is not None and callable(check) and check(response):
                return dict(response.json())
            time.sleep(2)
        pytest.fail(f"{condition} not seen after {WAIT_S} s")

    def ask(self, question: str = QUESTION, **more: object) -> dict[str, object]:
        response = httpx.post(
            f"{self.url}/api/v1/ask",
            timeout=300,
            json={"corpus": "supervised-procedures", "question": question, **more},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def _cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [*GUICHET, *args], env=env, capture_output=True, text=True, timeout=900, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _serve(root: Path, prepared_model_dir: Path) -> Served:
    """`guichet serve` with the embedded engine over a corpus of one document, ready."""
    data = root / "data"
    settings = Settings(data_dir=data)
    if not settings.engine_python.is_file():
        pytest.skip(f"no vLLM environment at {settings.engine_python} (make venv-vllm)")
    settings.engine_model_dir.parent.mkdir(parents=True)
    settings.engine_model_dir.symlink_to(prepared_model_dir, target_is_directory=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")},
        "GUICHET_DATA_DIR": str(data),
        "GUICHET_ENGINE_PORT": str(free_port()),
        "GUICHET_PORT": str(port),
        "GUICHET_ENGINE_PYTHON": str(settings.engine_python),
        "HF_HUB_OFFLINE": "1",
    }
    corpus = "supervised-procedures"
    _cli(env, "corpus", "create", corpus, "--kind", "procedures", "--review", "never")
    document = str(PROJECT_ROOT / "corpora/demo/procedures/carte-identite.md")
    _cli(env, "ingest", document, "--corpus", corpus)
    log = root / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*GUICHET, "serve"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Served(url=f"http://127.0.0.1:{port}", data=data, process=process, log=log)
    try:
        server.wait_for("ready", lambda r: r.status_code == 200)
    except BaseException:
        process.kill()
        raise
    return server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, prepared_model_dir: Path) -> Iterator[Served]:
    server = _serve(tmp_path_factory.mktemp("supervised"), prepared_model_dir)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(60)


def test_engine_killed_is_restarted_and_answers_again(served: Served) -> None:
    first = served.ask()
    assert first["status"] == "released", first
    before = served.engine_status()
    assert before["state"] == "running" and before["restarts"] == 0
    engine_pid = int(str(before["pid"]))

    os.kill(engine_pid, signal.SIGKILL)

    ready = served.wait_for(
        "the engine's restart",
        lambda r: r.status_code == 200 and (r.json().get("engine") or {}).get("restarts") == 1,
    )
    assert ready["engine"]["state"] == "running"  # type: ignore[index]
    assert ready["engine"]["last_exit_code"] == -signal.SIGKILL  # type: ignore[index]
    after = served.engine_status()
    assert after["pid"] != engine_pid
    # The killed server's engine-core and workers were ended, not left as orphans.
    assert not group_has_live_members(engine_pid)
    again = served.ask()
    assert again["status"] == "released", again
    assert again["answer"]
    # The new engine itself answers (the app's answer above may be extractive).
    completion = httpx.post(
        f"{before['base_url']}/chat/completions",
        timeout=300,
        json={
            "model": Settings().llm_model,
            "messages": [{"role": "user", "content": "Bonjour"}],
            "max_tokens": 5,
        },
    )
    assert completion.status_code == 200 and completion.json()["choices"][0]["message"]
    log = served.log.read_text(errors="replace")
    assert "restarting the embedded engine" in log
    assert "the embedded engine is back (restart 1" in log


def test_sigterm_to_serve_leaves_no_engine_process(served: Served) -> None:
    engine_pid = int(str(served.engine_status()["pid"]))
    assert group_has_live_members(engine_pid)

    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(WAIT_S)

    assert code == 128 + signal.SIGTERM  # the stack unwound: every `finally` ran
    assert not group_has_live_members(engine_pid), _group_members(engine_pid)
    assert not (served.data / "engine-status.json").exists()


def _group_members(pgid: int) -> list[str]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                members.append(f"{stat.parent.name} {fields[0]}")
        except (OSError, IndexError):
            continue
    return members


def test_serve_killed_by_sigkill_leaves_no_engine_process(
    tmp_path: Path, prepared_model_dir: Path
) -> None:
    """The app crashing hard (SIGKILL, the out-of-memory killer): no `finally` runs, the
    engine learns of it from the kernel (parent-death signal) and ends its group."""
    served = _serve(tmp_path, prepared_model_dir)
    engine_pid = int(str(served.engine_status()["pid"]))
    served.process.kill()
    served.process.wait(60)
    deadline = time.monotonic() + 120  # a deadline for waiting, not a measured duration
    try:
        while group_has_live_members(engine_pid):
            assert time.monotonic() < deadline, _group_members(engine_pid)
            time.sleep(1)
    finally:
        signal_group(engine_pid, signal.SIGKILL)  # whatever the outcome, nothing lingers
