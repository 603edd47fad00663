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
    """The engine could not be reached, did not answer in time, or refused the request."""


class EngineRefused(EngineUnavailable):
    """The engine answered the request with an error status (a prompt too long for its
    context, an unknown model, an overloaded server): the question is kept all the same."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message[:300]}")
        self.status = status


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
    finish_reason: str | None = None  # "length": cut by the token limit

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


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
        self.max_tokens = max_tokens
        self._context_length: int | None = None
        self._tokenize: bool | None = None  # does the engine offer /tokenize?
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
        self,
        messages: list[BaseMessage],
        *,
        regex: str | None = None,
        choice: list[str] | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[tuple[str, Generation]]:
        """Yield (delta, generation so far); ``regex`` or ``choice`` (one of these strings)
        constrains the decoding in vLLM (structured outputs)."""
        extra: dict[str, Any] = {}
        if regex:
            extra["structured_outputs"] = {"regex": regex}
        if choice:
            extra["structured_outputs"] = {"choice": choice}
        chat = self._chat if max_tokens is None else self._chat.bind(max_tokens=max_tokens)
        generation = Generation(model=self.model)
        start = time.perf_counter()
        try:
            async for chunk in chat.astream(messages, extra_body=extra or None):
                assert isinstance(chunk, AIMessageChunk)
                delta = chunk.content if isinstance(chunk.content, str) else ""
                if delta:
                    if generation.ttft_ms is None:
                        generation.ttft_ms = (time.perf_counter() - start) * 1000
                    generation.text += delta
                    yield delta, generation
                finish = chunk.response_metadata.get("finish_reason")
                if finish:
                    generation.finish_reason = str(finish)
                if chunk.usage_metadata:
                    generation.prompt_tokens = chunk.usage_metadata["input_tokens"]
                    generation.completion_tokens = chunk.usage_metadata["output_tokens"]
        except Exception as error:
            import openai

            if isinstance(error, openai.APIStatusError):
                raise EngineRefused(error.status_code, str(error.message)) from error
            if _is_unavailable(error):
                raise EngineUnavailable(type(error).__name__) from error
            raise
        generation.total_ms = (time.perf_counter() - start) * 1000
        yield "", generation

    async def generate(
        self,
        messages: list[BaseMessage],
        *,
        regex: str | None = None,
        choice: list[str] | None = None,
        max_tokens: int | None = None,
    ) -> Generation:
        generation = Generation(model=self.model)
        async for _, so_far in self.stream(
            messages, regex=regex, choice=choice, max_tokens=max_tokens
        ):
            generation = so_far
        return generation

    async def context_length(self) -> int | None:
        """The engine's context window in tokens (vLLM lists ``max_model_len`` for each
        model in ``/v1/models``); None when the engine does not say."""
        if self._context_length is None:
            try:
                response = await self._http.get(
                    f"{self.base_url.rstrip('/')}/models",
                    headers={"Authorization": f"Bearer {self._api_key}"},
                    timeout=10,
                )
                for model in response.json().get("data", []):
                    if model.get("id") == self.model and model.get("max_model_len"):
                        self._context_length = int(model["max_model_len"])
            except (httpx.HTTPError, ValueError, TypeError):
                return None
        return self._context_length

    async def count_tokens(self, messages: list[BaseMessage]) -> int:
        """Prompt tokens of ``messages`` as the engine counts them: vLLM's ``/tokenize``
        applies the served model's chat template. Other engines: a cautious estimate."""
        payload = {
            "model": self.model,
            "messages": [
                {"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages
            ],
        }
        if self._tokenize is not False:
            try:
                response = await self._http.post(
                    f"{_server_root(self.base_url)}/tokenize",
                    json=payload,
                    headers={"Authorization": f"Bearer {self._api_key}"},
                    timeout=10,
                )
                if response.status_code == 200:
                    self._tokenize = True
                    return int(response.json()["count"])
                if response.status_code == 404:
                    self._tokenize = False
            except (httpx.HTTPError, ValueError, KeyError) as error:
                raise EngineUnavailable(f"tokenize: {type(error).__name__}") from error
        text = sum(len(str(m.content)) for m in messages)
        return text // CHARS_PER_TOKEN_ESTIMATE + 8 * len(messages)

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


# Engines without /tokenize: French text through a small model's BPE tokenizer runs at
# 2.8 to 3.0 characters per token on the shared sets, 1.95 for the densest document
# (SmolLM2's tokenizer, 60 documents per set): 2 keeps the estimate on the safe side.
CHARS_PER_TOKEN_ESTIMATE = 2
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def _server_root(base_url: str) -> str:
    """``http://host:port`` of an OpenAI-compatible ``.../v1`` base URL."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _is_unavailable(error: Exception) -> bool:
    import openai

    return isinstance(
        error,
        openai.APIConnectionError
        | openai.APITimeoutError
        | openai.InternalServerError
        | httpx.TransportError,
    )
