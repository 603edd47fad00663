"""The client of the answering engine: vLLM (or any OpenAI-compatible server).

LangChain's ``ChatOpenAI`` speaks to it; vLLM-specific request fields (structured
outputs) go through ``extra_body`` so the same code serves a GPU deployment.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_openai import ChatOpenAI


class EngineUnavailable(Exception):
    """The engine could not be reached or did not answer in time."""


@dataclass
class Generation:
    """What the engine produced for one prompt."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float | None = None
    total_ms: float = 0.0
    model: str = ""
    deltas: list[str] = field(default_factory=list)


class LLMClient:
    """Streams chat completions from the engine, one shared HTTP pool per app."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str,
        timeout_s: float,
        max_tokens: int,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self._timeout_s = timeout_s
        # One pooled client per app: connections to the engine are reused across requests.
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )
        self._chat = ChatOpenAI(
            http_async_client=self._http,
            base_url=base_url,
            model=model,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            max_tokens=max_tokens,
            temperature=0.1,
            stream_usage=True,
        )

    async def stream(
        self, messages: list[BaseMessage], *, regex: str | None = None
    ) -> AsyncIterator[tuple[str, Generation]]:
        """Yield (delta, generation so far); ``regex`` constrains the decoding in vLLM."""
        extra: dict[str, Any] = {}
        if regex:
            extra["structured_outputs"] = {"regex": regex}
        generation = Generation(model=self.model)
        start = time.perf_counter()
        try:
            async for chunk in self._chat.astream(messages, extra_body=extra or None):
                assert isinstance(chunk, AIMessageChunk)
                delta = chunk.content if isinstance(chunk.content, str) else ""
                if delta:
                    if generation.ttft_ms is None:
                        generation.ttft_ms = (time.perf_counter() - start) * 1000
                    generation.text += delta
                    yield delta, generation
                if chunk.usage_metadata:
                    generation.prompt_tokens = chunk.usage_metadata["input_tokens"]
                    generation.completion_tokens = chunk.usage_metadata["output_tokens"]
        except Exception as error:
            if _is_unavailable(error):
                raise EngineUnavailable(type(error).__name__) from error
            raise
        generation.total_ms = (time.perf_counter() - start) * 1000
        yield "", generation

    async def generate(
        self, messages: list[BaseMessage], *, regex: str | None = None
    ) -> Generation:
        generation = Generation(model=self.model)
        async for _, so_far in self.stream(messages, regex=regex):
            generation = so_far
        return generation

    async def healthy(self, timeout_s: float = 2.0) -> bool:
        """True when the engine lists at least one model."""
        try:
            response = await self._http.get(
                f"{self.base_url.rstrip('/')}/models",
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=timeout_s,
            )
            return response.status_code == 200 and bool(response.json().get("data"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._http.aclose()


def _is_unavailable(error: Exception) -> bool:
    import openai

    return isinstance(
        error,
        openai.APIConnectionError
        | openai.APITimeoutError
        | openai.InternalServerError
        | httpx.TransportError,
    )
