"""Server-sent events for answers being written, encoded by sse-starlette."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette import EventSourceResponse

from review.models import Answer
from server.answers.pipeline import AnswerService, AskError, Caller


def _event(name: str, data: Any) -> dict[str, str]:
    """One event as sse-starlette encodes it (a multi-line payload gets one ``data:`` line
    per line)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return {"event": name, "data": payload}


async def answer_events(
    *,
    service: AnswerService,
    corpus: str,
    question: str,
    conversation_id: str | None,
    caller: Caller,
    final: Callable[[Answer], Any],
    error: Callable[[str], Any],
) -> AsyncIterator[dict[str, str]]:
    """started → sentence… → done (``final(answer)``), or error (``error(code)``)."""
    try:
        async for event, value in service.ask_stream(
            corpus=corpus, question=question, conversation_id=conversation_id, caller=caller
        ):
            yield _event(event, final(value) if event == "done" else value)
    except AskError as failure:
        yield _event("error", error(failure.code))


def event_stream(events: AsyncIterator[dict[str, str]]) -> EventSourceResponse:
    """The response carrying ``events``; lines end in ``\\n`` as browsers' parsers and
    web/static/guichet.js expect, and a comment every 15 s keeps proxies from closing
    a slow answer."""
    return EventSourceResponse(events, sep="\n", ping=15, headers={"Cache-Control": "no-cache"})
