"""A fake OpenAI-compatible engine at the HTTP edge (httpx transport) for unit tests.

Only the bytes on the wire are faked: the app's LLM client, LangChain and the
openai library run for real on top of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

Reply = Callable[[dict], str]


def sse_completion(text: str, model: str = "fake") -> bytes:
    chunks = []
    for i, piece in enumerate(text.split(" ")):
        delta = piece if i == 0 else " " + piece
        chunks.append(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}],
            }
        )
    chunks.append(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    chunks.append(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": len(chunks),
                "total_tokens": 100 + len(chunks),
            },
        }
    )
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


class FakeEngine:
    """Answers chat completions with ``reply(request_json)``; records requests."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.reply: Reply = reply or (lambda request: "Je ne sais pas.")
        self.requests: list[dict] = []
        self.tokenized: list[dict] = []
        self.down = False
        self.window = 8192  # the context length it reports, as vLLM does
        self.refuse: tuple[int, str] | None = None  # answer completions with this error

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("engine down", request=request)
        if request.url.path.endswith("/models"):
            return httpx.Response(
                200,
                json={"data": [{"id": "fake", "object": "model", "max_model_len": self.window}]},
            )
        if request.url.path.endswith("/tokenize"):
            body = json.loads(request.content)
            text = " ".join(m["content"] for m in body["messages"])
            self.tokenized.append(body)
            return httpx.Response(200, json={"count": len(text) // 3 + 10})
        body = json.loads(request.content)
        self.requests.append(body)
        if self.refuse is not None:
            status, message = self.refuse
            return httpx.Response(
                status, json={"object": "error", "message": message, "code": status}
            )
        return httpx.Response(
            200,
            content=sse_completion(self.reply(body)),
            headers={"content-type": "text/event-stream"},
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
