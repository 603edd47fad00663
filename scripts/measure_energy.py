"""Estimate this machine's energy per 1,000 tokens for the embedded vLLM CPU engine.

No RAPL counters are readable here (``/sys/class/powercap`` is absent in most VMs), so the
energy is derived, not measured: the CPU time the engine's processes spend on a batch of
requests (user + system, from ``/proc/<pid>/stat``, summed over its process group, minus
what it burns while idle) times the power of one busy hardware thread (``--watts-per-thread``,
the package TDP divided by its threads). CPU time rather than wall time keeps the figure
meaningful on a shared machine where other processes compete for the cores.

    .venv/bin/python scripts/measure_energy.py --watts-per-thread 2.8

Prints JSON: CPU seconds per 1,000 prompt tokens (prefill, ``max_tokens=1``) and per 1,000
completion tokens (decode, ``ignore_eos``), and the Wh per 1,000 tokens they imply.
See docs/energy.md for how the default setting was chosen from this output.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import httpx

from server.engine.prepare import packaged_gguf_path, prepare_model
from server.engine.process import EmbeddedEngine
from server.settings import Settings

_TICK = os.sysconf("SC_CLK_TCK")


def _group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in the group (children included)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[2] is pgrp; [11], [12] utime, stime; [13], [14] waited-for children.
        if int(fields[2]) == pgid:
            total += sum(int(f) for f in fields[11:15])
    return total / _TICK


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _complete(client: httpx.Client, model: str, prompt: str, max_tokens: int) -> dict[str, int]:
    response = client.post(
        "/completions",
        json={
            "model": model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": 0,
            "ignore_eos": True,
        },
    )
    response.raise_for_status()
    usage = response.json()["usage"]
    return {"prompt": usage["prompt_tokens"], "completion": usage["completion_tokens"]}


def measure(engine: EmbeddedEngine, rounds: int) -> dict[str, float]:
    pgid = engine.pid
    assert pgid is not None
    model = engine.served_model_name
    text = Path(__file__).read_text() * 3
    # A different opening each round: vLLM's prefix cache would otherwise skip the prefill.
    prompts = [f"{i}: " + text[i * 97 : i * 97 + 5000] for i in range(rounds)]
    with httpx.Client(base_url=engine.base_url, timeout=600) as client:
        _complete(client, model, "Bonjour", 8)  # warm-up
        idle_start, t0 = _group_cpu_seconds(pgid), time.monotonic()
        time.sleep(10)
        idle_rate = (_group_cpu_seconds(pgid) - idle_start) / (time.monotonic() - t0)

        def run(prompts: list[str], max_tokens: int) -> tuple[float, dict[str, int]]:
            tokens = {"prompt": 0, "completion": 0}
            start, t = _group_cpu_seconds(pgid), time.monotonic()
            for prompt in prompts:
                used = _complete(client, model, prompt, max_tokens)
                tokens = {k: tokens[k] + used[k] for k in tokens}
            busy = _group_cpu_seconds(pgid) - start - idle_rate * (time.monotonic() - t)
            return max(busy, 0.0), tokens

        prefill_cpu, prefill = run(prompts, 1)
        decode_cpu, decode = run([f"Bonjour {i}" for i in range(rounds)], 128)
    per_prompt = prefill_cpu / prefill["prompt"]
    # The decode run also prefilled its short prompt: take that share out.
    per_completion = (decode_cpu - per_prompt * decode["prompt"]) / decode["completion"]
    return {
        "idle_cpu_s_per_s": round(idle_rate, 4),
        "cpu_s_per_1k_prompt_tokens": round(per_prompt * 1000, 3),
        "cpu_s_per_1k_completion_tokens": round(per_completion * 1000, 3),
        "prompt_tokens_measured": prefill["prompt"],
        "completion_tokens_measured": decode["completion"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watts-per-thread", type=float, default=2.8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    model_dir = prepare_model(
        gguf_path=packaged_gguf_path(settings.engine_chat_gguf),
        target_dir=Path(os.environ.get("GUICHET_TEST_CACHE", "data/test-cache"))
        / "models"
        / settings.llm_model,
    )
    with EmbeddedEngine(
        python=settings.engine_python,
        model_dir=model_dir,
        served_model_name=settings.llm_model,
        port=_free_port(),
        log_path=Path(tempfile.gettempdir()) / "guichet-measure-energy.log",
    ) as engine:
        engine.wait_ready(timeout_s=900)
        figures = measure(engine, args.rounds)
    watts = args.watts_per_thread
    figures["watts_per_thread"] = watts
    for kind in ("prompt", "completion"):
        cpu = figures[f"cpu_s_per_1k_{kind}_tokens"]
        figures[f"wh_per_1k_{kind}_tokens"] = round(cpu * watts / 3600, 6)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
