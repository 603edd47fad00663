"""A prompt that always fits the engine's context, whatever the documents and settings.

The engine's window (vLLM's ``max_model_len``) must hold the rules, the question, the
passages and the answer. Tokens are counted the way the engine counts them (its
``/tokenize``, with the served model's chat template). Room for the answer is kept first;
then the passages fit in what is left: every passage over its share is cut down to its
best units (the sentences that answer the question, in reading order, « … » between
them), and only when even that is too much are the weakest passages left out, from the
last. A final count of the whole prompt checks the result; nothing is sent over the limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage

from server.engine.client import LLMClient

log = logging.getLogger(__name__)

# Used when the engine does not report its window (not vLLM).
DEFAULT_CONTEXT = 4096
# Tokens kept free besides the answer: the template's closing tokens, rounding.
MARGIN = 16
# The answer keeps at least this much room, even with a small window and a long question.
MIN_ANSWER_TOKENS = 64
# A passage cut below this is not worth keeping: the weakest passage goes instead.
MIN_PASSAGE_TOKENS = 48


@dataclass(frozen=True)
class PassageText:
    """A passage as the prompt shows it: ``units`` are its pieces, best first, each with
    its position in reading order (to cut the passage down to what answers)."""

    text: str
    units: Sequence[tuple[int, str]]


@dataclass
class Fitted:
    """The messages to send, how many passages they keep, and the answer's token budget."""

    messages: list[BaseMessage]
    kept: int
    max_tokens: int
    prompt_tokens: int
    trimmed: int


class PromptTooLong(Exception):
    """Not even the question and one cut passage fit the engine's window."""


async def fit(
    *,
    llm: LLMClient,
    build: Callable[[list[str]], list[BaseMessage]],
    passages: Sequence[PassageText],
) -> Fitted:
    """Messages for ``build(passage texts)`` that fit the engine's window."""
    window = await llm.context_length() or DEFAULT_CONTEXT
    answer = min(llm.max_tokens, max(MIN_ANSWER_TOKENS, window // 4))
    room = window - answer - MARGIN
    base = await llm.count_tokens(build([]))
    sizes = await asyncio.gather(*(_size(llm, build, p.text, base) for p in passages))
    texts = [p.text for p in passages]
    budget = room - base
    trimmed = 0
    if sum(sizes) > budget:
        texts, trimmed = _shrink(passages, sizes, budget)
    for _ in range(len(texts) + 1):
        messages = build(texts)
        tokens = await llm.count_tokens(messages)
        if tokens <= room:
            return Fitted(
                messages, len(texts), min(llm.max_tokens, window - tokens - MARGIN), tokens, trimmed
            )
        if not texts:
            break
        texts = texts[:-1]  # the estimate was short: leave out the weakest passage
    raise PromptTooLong(f"{window} tokens: the question alone leaves no room")


async def _size(
    llm: LLMClient, build: Callable[[list[str]], list[BaseMessage]], text: str, base: int
) -> int:
    return max(1, await llm.count_tokens(build([text])) - base)


def _shrink(
    passages: Sequence[PassageText], sizes: Sequence[int], budget: int
) -> tuple[list[str], int]:
    """Passage texts within ``budget`` tokens: shares by water-filling, each passage over
    its share cut to its best units; the weakest left out when shares get too small."""
    count = len(passages)
    while count > 0:
        shares = _water_fill(list(sizes[:count]), budget)
        if min(shares) >= MIN_PASSAGE_TOKENS or count == 1:
            break
        count -= 1
    texts, trimmed = [], 0
    for passage, size, share in zip(
        passages[:count], sizes, _water_fill(list(sizes[:count]), budget), strict=False
    ):
        if size <= share:
            texts.append(passage.text)
            continue
        trimmed += 1
        texts.append(_cut(passage, int(len(passage.text) * share / size * 0.95)))
    return texts, trimmed


def _water_fill(sizes: list[int], budget: int) -> list[int]:
    """Equal shares of ``budget``; what a short passage does not use goes to the others."""
    shares = [0] * len(sizes)
    left, open_ = budget, list(range(len(sizes)))
    while open_ and left > 0:
        share = left // len(open_)
        small = [i for i in open_ if sizes[i] <= share]
        if not small:
            for i in open_:
                shares[i] = share
            break
        for i in small:
            shares[i] = sizes[i]
            left -= sizes[i]
        open_ = [i for i in open_ if i not in small]
    return shares


def _cut(passage: PassageText, chars: int) -> str:
    """The passage's best units that fit in ``chars`` characters, in reading order."""
    chosen: list[tuple[int, str]] = []
    used = 0
    for position, unit in passage.units:
        if used + len(unit) + 3 > chars:
            continue
        chosen.append((position, unit))
        used += len(unit) + 3
    if not chosen:
        return passage.text[: max(0, chars)]
    chosen.sort()
    pieces: list[str] = []
    previous = None
    for position, unit in chosen:
        if previous is not None and position != previous + 1:
            pieces.append("…")
        pieces.append(unit)
        previous = position
    return " ".join(pieces)
