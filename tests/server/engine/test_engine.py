"""The embedded engine: process handling with fake engines, then the real vLLM CPU server.

Fast tests replace the vLLM interpreter with small shell scripts (the production command
line stays untouched). Tests marked ``engine`` prepare the packaged model and start the real
server once per session (see ``fixtures.py``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
import textwrap
import time
from pathlib import Path

import httpx
import jsonschema
import pytest

from server.engine.errors import EngineError
from server.engine.prepare import PREPARED_MARKER, _fingerprint, packaged_gguf_path, prepare_model
from server.engine.process import EmbeddedEngine, engine_health
from server.settings import Settings

# prepared_model_dir and embedded_engine (session-scoped, one engine for every suite) come
# from tests/server/engine/fixtures.py through tests/conftest.py.

logger = logging.getLogger(__name__)

MODEL_NAME = "smollm2-135m-instruct"

# A tiny OpenAI-compatible server standing in for vLLM: the same arguments, /health and
# /v1/models only.
FAKE_SERVER = textwrap.dedent(
    """
    import argparse, http.server, json
    parser = argparse.ArgumentParser()
    for flag in ("-m", "--host", "--served-model-name"):
        parser.add_argument(flag)
    parser.add_argument("--port", type=int)
    args, _ = parser.parse_known_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                body = b""
            elif self.path == "/v1/models":
                body = json.dumps({"object": "list", "data": [
                    {"id": args.served_model_name, "object": "model"}]}).encode()
            else:
                self.send_response(404); self.end_headers(); return
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a):
            pass

    print("fake engine listening", flush=True)
    http.server.HTTPServer((args.host, args.port), Handler).serve_forever()
    """
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_python(tmp_path: Path, body: str) -> Path:
    """A stand-in for the vLLM venv's python: passes the vLLM probe, then runs ``body``."""
    script = tmp_path / "fake-python"
    script.write_text(
        '#!/bin/sh\n[ "$1" = "-c" ] && exit 0  # the "is vllm installed" probe\n' + body + "\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def make_engine(tmp_path: Path, python: Path, port: int | None = None) -> EmbeddedEngine:
    model_dir = tmp_path / "model"
    model_dir.mkdir(exist_ok=True)
    (model_dir / "config.json").write_text("{}")
    return EmbeddedEngine(
        python=python,
        model_dir=model_dir,
        served_model_name=MODEL_NAME,
        port=port or free_port(),
        log_path=tmp_path / "engine.log",
    )


def alive(pid: int) -> bool:
    """Running and not a zombie (a container's PID 1 may never reap orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --------------------------------------------------------------------------- fast tests


def test_packaged_gguf_path_finds_the_chat_model() -> None:
    path = packaged_gguf_path(Settings().engine_chat_gguf)
    assert path.is_file()
    assert path.stat().st_size > 50_000_000


def test_packaged_gguf_path_unknown_file() -> None:
    with pytest.raises(EngineError) as caught:
        packaged_gguf_path("no-such-model.gguf")
    assert caught.value.code == "not_prepared"


def test_start_without_python_is_vllm_missing(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, tmp_path / "no-venv" / "bin" / "python")
    with pytest.raises(EngineError) as caught:
        engine.start()
    assert caught.value.code == "vllm_missing"
    assert engine.poll() is None


def test_start_with_python_lacking_vllm_is_vllm_missing(tmp_path: Path) -> None:
    # The app's own interpreter has no vLLM (it lives in its own venv).
    engine = make_engine(tmp_path, Path(sys.executable))
    with pytest.raises(EngineError) as caught:
        engine.start()
    assert caught.value.code == "vllm_missing"


def test_start_without_prepared_model_is_not_prepared(tmp_path: Path) -> None:
    engine = EmbeddedEngine(
        python=fake_python(tmp_path, "exit 0"),
        model_dir=tmp_path / "empty",
        served_model_name=MODEL_NAME,
        port=free_port(),
    )
    with pytest.raises(EngineError) as caught:
        engine.start()
    assert caught.value.code == "not_prepared"


def test_start_on_busy_port_is_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        engine = make_engine(tmp_path, fake_python(tmp_path, "exit 0"), port=port)
        with pytest.raises(EngineError) as caught:
            engine.start()
    assert caught.value.code == "port_in_use"


def test_engine_that_exits_is_crashed_with_log_tail(tmp_path: Path) -> None:
    python = fake_python(tmp_path, 'echo "boom: $*"; exit 3')
    engine = make_engine(tmp_path, python)
    engine.start()
    try:
        with pytest.raises(EngineError) as caught:
            engine.wait_ready(timeout_s=30)
    finally:
        engine.stop()
    error = caught.value
    assert error.code == "crashed"
    assert "code 3" in error.message
    assert "boom: -m vllm.entrypoints.openai.api_server --model" in error.detail
    assert "-O0" in error.detail


def test_engine_never_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    # Log lines as vLLM prints them before its port opens; progress is read from them.
    body = 'echo "INFO non-default args: {}"; echo "INFO Starting to load model"; exec sleep 300'
    engine = make_engine(tmp_path, fake_python(tmp_path, body))
    engine.start()
    pid = engine.pid
    assert pid is not None
    phases: list[str] = []
    with pytest.raises(EngineError) as caught:
        engine.wait_ready(timeout_s=1.5, on_progress=lambda elapsed, phase: phases.append(phase))
    assert caught.value.code == "timeout"
    assert "Starting to load model" in caught.value.detail
    assert phases[-1] == "loading weights"
    assert set(phases) <= {"starting", "configuring", "loading weights"}
    assert not alive(pid)


def test_stop_ends_the_whole_process_group_and_is_idempotent(tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    # Like vLLM, the fake forks a worker; it ignores SIGTERM, so only SIGKILL ends it.
    body = f"sh -c 'trap \"\" TERM; sleep 300' & echo $! > {child_pid_file}; wait"
    engine = make_engine(tmp_path, fake_python(tmp_path, body))
    engine.start()
    for _ in range(50):
        if child_pid_file.exists() and child_pid_file.read_text().strip():
            break
        time.sleep(0.1)
    child_pid = int(child_pid_file.read_text())
    assert alive(child_pid)
    started = time.monotonic()
    engine.stop(timeout_s=2)
    assert time.monotonic() - started < 10
    # SIGKILL is delivered asynchronously: give the orphan a moment to die.
    deadline = time.monotonic() + 5
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid)
    engine.stop()  # second call: nothing to do, no error
    assert engine.poll() is None


def test_ready_engine_reports_progress_and_health(tmp_path: Path) -> None:
    server = tmp_path / "fake_server.py"
    server.write_text(FAKE_SERVER)
    python = fake_python(tmp_path, f'exec "{sys.executable}" "{server}" "$@"')
    phases: list[str] = []
    with make_engine(tmp_path, python) as engine:
        engine.wait_ready(timeout_s=30, on_progress=lambda elapsed, phase: phases.append(phase))
        assert phases[-1] == "ready"
        assert engine.ready_after_s is not None
        assert engine_health(engine.base_url)
        assert engine.base_url == f"http://127.0.0.1:{engine.port}/v1"
    assert not engine_health(engine.base_url, timeout_s=0.5)


def test_engine_health_is_false_when_nothing_listens() -> None:
    assert not engine_health(f"http://127.0.0.1:{free_port()}/v1", timeout_s=0.5)


def test_prepare_model_returns_at_once_when_already_prepared(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF not really")
    target = tmp_path / "models" / "tiny"
    target.mkdir(parents=True)
    (target / PREPARED_MARKER).write_text(json.dumps(_fingerprint(gguf)))
    messages: list[str] = []
    assert prepare_model(gguf_path=gguf, target_dir=target, progress=messages.append) == target
    assert any("already prepared" in message for message in messages)


def test_failed_prepare_keeps_previous_model_and_leaves_no_temp(tmp_path: Path) -> None:
    gguf = tmp_path / "broken.gguf"
    gguf.write_bytes(b"GGUF but broken")
    target = tmp_path / "models" / "broken"
    target.mkdir(parents=True)
    # A preparation of another source file (an older package version): to be replaced.
    (target / PREPARED_MARKER).write_text(json.dumps({"format": 1, "sha256": "older"}))
    (target / "config.json").write_text("{}")
    with pytest.raises(EngineError) as caught:
        prepare_model(gguf_path=gguf, target_dir=target)
    assert caught.value.code == "prepare_failed"
    assert (target / "config.json").exists()
    assert not [p for p in target.parent.iterdir() if ".tmp-" in p.name]


def test_prepare_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    target = tmp_path / "not-a-model"
    target.mkdir()
    (target / "notes.txt").write_text("precious")
    with pytest.raises(EngineError) as caught:
        prepare_model(gguf_path=gguf, target_dir=target)
    assert caught.value.code == "prepare_failed"
    assert "was not written by" in caught.value.message
    assert (target / "notes.txt").read_text() == "precious"


# --------------------------------------------------------------------------- real engine


def process_group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group (shared pages counted per process)."""
    total_kb = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total_kb / 1024


@pytest.mark.engine
@pytest.mark.slow
def test_prepared_model_is_complete_and_prepare_is_idempotent(prepared_model_dir: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", PREPARED_MARKER):
        assert (prepared_model_dir / name).is_file(), name
    settings = Settings()
    started = time.monotonic()
    prepare_model(
        gguf_path=packaged_gguf_path(settings.engine_chat_gguf), target_dir=prepared_model_dir
    )
    assert time.monotonic() - started < 5  # hashing only, no conversion


@pytest.mark.engine
@pytest.mark.slow
def test_real_engine_answers_a_chat_completion(embedded_engine: EmbeddedEngine) -> None:
    from openai import OpenAI

    assert engine_health(embedded_engine.base_url)
    client = OpenAI(base_url=embedded_engine.base_url, api_key="EMPTY", timeout=120)
    started = time.monotonic()
    completion = client.chat.completions.create(
        model=MODEL_NAME,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=64,
        temperature=0,
    )
    latency = time.monotonic() - started
    text = completion.choices[0].message.content or ""
    assert text.strip()
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert embedded_engine.pid is not None
    logger.info(
        "engine: ready after %.1f s; completion of %d tokens in %.2f s; RSS %.0f MB",
        embedded_engine.ready_after_s or -1,
        completion.usage.completion_tokens,
        latency,
        process_group_rss_mb(embedded_engine.pid),
    )


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 600},
        "citations": {
            "type": "array",
            "items": {"type": "integer", "enum": [1, 2, 3]},
            "maxItems": 3,
        },
    },
    "required": ["answer", "citations"],
    "additionalProperties": False,
}


@pytest.mark.engine
@pytest.mark.slow
def test_real_engine_enforces_a_json_schema(embedded_engine: EmbeddedEngine) -> None:
    prompt = (
        "Passages:\n[1] Paris is the capital of France.\n[2] A passport costs 86 euros.\n"
        "[3] Town halls open at 9 am.\n\nQuestion: How much does a passport cost? "
        'Answer in JSON with "answer" and the numbers of the passages you used in "citations".'
    )
    response = httpx.post(
        f"{embedded_engine.base_url}/chat/completions",
        json={
            "model": MODEL_NAME,
            "messages": [{"role": "user", "content": prompt}],
            # 600 characters is at most ~600 tokens; leave room so JSON is never cut.
            "max_tokens": 800,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA, "strict": True},
            },
        },
        timeout=180,
    )
    response.raise_for_status()
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    jsonschema.validate(json.loads(content), ANSWER_SCHEMA)
    logger.info("structured output: %s", content)
