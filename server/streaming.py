"""Server-sent events for answers being written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from review.models import Answer
from server.answering import AnswerService, AskError, Caller


def sse(event: str, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines = "".join(f"data: {line}\n" for line in payload.split("\n"))
    return f"event: {event}\n{lines}\n".encode()


async def answer_events(
    *,
    service: AnswerService,
    corpus: str,
    question: str,
    conversation_id: str | None,
    caller: Caller,
    final: Callable[[Answer], Any],
    error: Callable[[str], Any],
) -> AsyncIterator[bytes]:
    """started → sentence… → done (``final(answer)``), or error (``error(code)``)."""
    try:
        async for event, value in service.ask_stream(
            corpus=corpus, question=question, conversation_id=conversation_id, caller=caller
        ):
            if event == "done":
                yield sse("done", final(value))
            else:
                yield sse(event, value)
    except AskError as failure:
        yield sse("error", error(failure.code))
