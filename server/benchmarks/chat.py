"""`guichet bench`: figures measured side by side in one run (these machines are noisy).

``bench chat`` sends the same concurrent questions once through Guichet's streaming API
and once straight to the engine (with the very prompts Guichet built), and compares the
token throughput. ``bench load`` plays many citizens at once for a bounded time.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from server.answers.asking import AnswerMode
from server.answers.prompts import engine_request
from server.app import create_app
from server.settings import PROJECT_ROOT, Settings

DEMO = PROJECT_ROOT / "corpora" / "demo"
_SENTENCE_END = re.compile(r"[.!?…](\s|$)")


def demo_questions(folder: str = "procedures") -> list[str]:
    """The main demo questions asked of one folder of corpora/demo (questions.md)."""
    from retrieval.datasets import load_sets

    return [
        q.question
        for s in load_sets(DEMO)
        if s.name == folder
        for q in s.questions
        if q.group == "main"
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_app(settings: Settings) -> Iterator[tuple[str, Any]]:
    """The real app served by uvicorn on a free loopback port: (its URL, its state)."""
    port = free_port()
    # Every simulated asker comes from 127.0.0.1: one caller for the rate limit.
    app = create_app(settings.model_copy(update={"rate_limit_ask_per_minute": 0}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.1)
    try:
        yield url, app.state.guichet
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Stream:
    """One streamed request: when the first content came, how it ended.

    Through Guichet: ``first_text_ms`` is the first useful text (the sources found, or a
    sentence), ``first_sentence_ms`` the first checked sentence of the answer. Straight
    to the engine: ``ttft_ms`` its first token, ``first_sentence_ms`` the end of its first
    complete sentence."""

    ttft_ms: float | None = None
    first_text_ms: float | None = None
    first_sentence_ms: float | None = None
    total_ms: float = 0.0
    tokens: int = 0
    answer_id: str | None = None
    status: str | None = None
    error: str | None = None
    events: list[str] = field(default_factory=list)


async def ask_app(client: httpx.AsyncClient, url: str, corpus: str, question: str) -> Stream:
    """POST /api/v1/ask/stream and read the events to the end."""
    result, start = Stream(), time.perf_counter()
    try:
        async with client.stream(
            "POST", f"{url}/api/v1/ask/stream", json={"corpus": corpus, "question": question}
        ) as response:
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}"
                return result
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                    result.events.append(event)
                elif line.startswith("data: ") and event in ("sources", "sentence", "done"):
                    elapsed = (time.perf_counter() - start) * 1000
                    if result.ttft_ms is None:
                        result.ttft_ms = elapsed
                    if result.first_text_ms is None:
                        result.first_text_ms = elapsed
                    if event == "sentence" and result.first_sentence_ms is None:
                        result.first_sentence_ms = elapsed
                    if event == "done":
                        body = json.loads(line[6:])
                        result.answer_id, result.status = body["answer_id"], body["status"]
                elif line.startswith("data: ") and event == "started":
                    result.answer_id = json.loads(line[6:])["answer_id"]
    except httpx.HTTPError as error:
        result.error = type(error).__name__
    result.total_ms = (time.perf_counter() - start) * 1000
    return result


async def ask_engine(client: httpx.AsyncClient, base_url: str, body: dict[str, Any]) -> Stream:
    """A streamed chat completion straight to the engine."""
    result, start = Stream(), time.perf_counter()
    try:
        async with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}"
                return result
            text = ""
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                    elapsed = (time.perf_counter() - start) * 1000
                    if result.ttft_ms is None:
                        result.ttft_ms = elapsed
                    text += chunk["choices"][0]["delta"]["content"]
                    if result.first_sentence_ms is None and _SENTENCE_END.search(text):
                        result.first_sentence_ms = elapsed
                if chunk.get("usage"):
                    result.tokens = chunk["usage"]["completion_tokens"]
    except httpx.HTTPError as error:
        result.error = type(error).__name__
    result.total_ms = (time.perf_counter() - start) * 1000
    return result


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def _role(message: Any) -> str:
    return {"system": "system", "human": "user", "ai": "assistant"}[message.type]


async def bench_chat(
    *, settings: Settings, corpus: str, concurrency: int, questions: list[str]
) -> dict[str, Any]:
    """Same questions, same prompts: through Guichet, then straight to the engine."""
    from review.models import Answer

    asked = [questions[i % len(questions)] for i in range(concurrency)]
    limits = httpx.Limits(max_connections=concurrency * 2)
    timeout = httpx.Timeout(settings.llm_timeout_s * 2)
    with live_app(settings) as (url, state):
        # The very prompts Guichet sends, rebuilt with its own code, for the engine alone.
        body_of: dict[str, dict[str, Any]] = {}
        for question in dict.fromkeys(asked):
            passages = await asyncio.to_thread(state.answers.search, corpus, question)
            messages, regex = engine_request(
                corpus_title=corpus, question=question, passages=passages, language="fr"
            )
            body_of[question] = {
                "model": settings.llm_model,
                "messages": [{"role": _role(m), "content": m.content} for m in messages],
                "max_tokens": settings.llm_max_tokens,
                "temperature": 0.1,
                "stream": True,
                "stream_options": {"include_usage": True},
                "structured_outputs": {"regex": regex},
            }
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            # Not timed: where both sides generate, each prompt once to the engine, so that
            # both runs below find it in vLLM's prefix cache (else the second run is
            # favoured); and one question to the app (a running server has answered before).
            if state.answers.mode != AnswerMode.extractive:
                warm = [{**b, "max_tokens": 1} for b in body_of.values()]
                await asyncio.gather(
                    *(ask_engine(client, settings.effective_llm_base_url, b) for b in warm)
                )
            await ask_app(client, url, corpus, questions[-1])
            start = time.perf_counter()
            app_runs = await asyncio.gather(*(ask_app(client, url, corpus, q) for q in asked))
            app_wall = time.perf_counter() - start
        with state.sessions() as session:
            stored = [(session.get(Answer, r.answer_id) if r.answer_id else None) for r in app_runs]
            app_tokens = sum(a.completion_tokens for a in stored if a)
            drafted = [bool(a and a.draft) for a in stored]
        # The engine gets the prompts of the answers Guichet had the model write (a doubtful
        # one where nobody reviews is declined without asking the model). In extractive
        # mode no model writes: every prompt goes, the engine's times being the reference.
        if state.answers.mode == AnswerMode.extractive:
            generated = asked
        else:
            generated = [q for q, wrote in zip(asked, drafted, strict=True) if wrote]
        bodies = [body_of[question] for question in generated]
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            start = time.perf_counter()
            engine_runs = await asyncio.gather(
                *(ask_engine(client, settings.effective_llm_base_url, b) for b in bodies)
            )
            engine_wall = time.perf_counter() - start
    engine_tokens = sum(r.tokens for r in engine_runs)
    app_tok_s = app_tokens / app_wall if app_wall else 0.0
    engine_tok_s = engine_tokens / engine_wall if engine_wall else 0.0
    return {
        "concurrency": concurrency,
        "app_tok_s": round(app_tok_s, 1),
        "engine_tok_s": round(engine_tok_s, 1),
        "ratio": round(app_tok_s / engine_tok_s, 3) if engine_tok_s and app_tokens else None,
        "p50_ttft_ms": percentile([r.ttft_ms for r in app_runs if r.ttft_ms], 50),
        "p95_ttft_ms": percentile([r.ttft_ms for r in app_runs if r.ttft_ms], 95),
        "engine_p50_ttft_ms": percentile([r.ttft_ms for r in engine_runs if r.ttft_ms], 50),
        "engine_p95_ttft_ms": percentile([r.ttft_ms for r in engine_runs if r.ttft_ms], 95),
        "first_text_p50_ms": percentile(_times(app_runs, "first_text_ms"), 50),
        "first_text_p95_ms": percentile(_times(app_runs, "first_text_ms"), 95),
        "first_sentence_p50_ms": percentile(_times(app_runs, "first_sentence_ms"), 50),
        "first_sentence_p95_ms": percentile(_times(app_runs, "first_sentence_ms"), 95),
        "engine_first_sentence_p50_ms": percentile(_times(engine_runs, "first_sentence_ms"), 50),
        "engine_first_sentence_p95_ms": percentile(_times(engine_runs, "first_sentence_ms"), 95),
        "answer_mode": str(state.answers.mode),
        "app_tokens": app_tokens,
        "engine_tokens": engine_tokens,
        "app_wall_s": round(app_wall, 2),
        "engine_wall_s": round(engine_wall, 2),
        "answers_generated": sum(drafted),
        "errors": sum(1 for r in app_runs if r.error) + sum(1 for r in engine_runs if r.error),
    }


async def bench_load(
    *,
    settings: Settings,
    corpus: str,
    users: int,
    duration_s: float,
    questions: list[str],
    think_s: tuple[float, float] = (1.0, 4.0),
    seed: int = 7,
) -> dict[str, Any]:
    """``users`` citizens asking, reading, asking again, until ``duration_s`` is up."""
    rng = random.Random(seed)
    runs: list[Stream] = []
    with live_app(settings) as (url, state):
        deadline = time.monotonic() + duration_s
        limits = httpx.Limits(max_connections=users * 2)

        async with httpx.AsyncClient(
            limits=limits, timeout=httpx.Timeout(settings.llm_timeout_s * 3)
        ) as client:

            async def citizen(n: int) -> None:
                await asyncio.sleep(rng.uniform(0, think_s[1]))
                while time.monotonic() < deadline:
                    runs.append(await ask_app(client, url, corpus, rng.choice(questions)))
                    await asyncio.sleep(rng.uniform(*think_s))

            await asyncio.gather(*(citizen(n) for n in range(users)))
        with state.sessions() as session:
            statuses = [_status(session, r.answer_id) for r in runs]
    server_errors = sum(1 for r in runs if r.error and r.error.startswith("HTTP 5"))
    unanswered = sum(
        1
        for r, s in zip(runs, statuses, strict=True)
        if s not in ("released", "pending_review", "declined")
    )
    ttft = [r.ttft_ms for r in runs if r.ttft_ms]
    return {
        "users": users,
        "duration_s": duration_s,
        "questions": len(runs),
        "server_errors": server_errors,
        "client_errors": sum(1 for r in runs if r.error) - server_errors,
        "neither_answered_nor_queued": unanswered,
        "released": statuses.count("released"),
        "pending_review": statuses.count("pending_review"),
        "declined": statuses.count("declined"),
        "p50_ttft_ms": percentile(ttft, 50),
        "p95_ttft_ms": percentile(ttft, 95),
        "p95_total_ms": percentile([r.total_ms for r in runs], 95),
    }


def _times(runs: list[Stream], name: str) -> list[float]:
    return [value for r in runs if (value := getattr(r, name)) is not None]


def _status(session: Any, answer_id: str | None) -> str | None:
    from review.models import Answer

    answer = session.get(Answer, answer_id) if answer_id else None
    return answer.status.value if answer is not None else None
