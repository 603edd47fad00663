"""What a question is while it goes through the pipeline: who asks, the answer mode, and
what each step has found so far."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from corpora.models import ReviewPolicy
from retrieval.types import Passage
from review.coverage import Judgement
from review.extractive import Candidate
from server.engine.client import Generation

# Served models too small to write grounded prose: `auto` answers extractively with them.
SMALL_MODELS = re.compile(r"smollm|135m|360m", re.I)


class AnswerMode(enum.StrEnum):
    extractive = "extractive"
    generative = "generative"
    auto = "auto"


def resolve_mode(mode: str, model: str) -> AnswerMode:
    """The mode to use with ``model`` when the setting says ``mode``."""
    chosen = AnswerMode(mode)
    if chosen != AnswerMode.auto:
        return chosen
    return AnswerMode.extractive if SMALL_MODELS.search(model) else AnswerMode.generative


@dataclass(frozen=True)
class Caller:
    """Who asks: an account, or an anonymous citizen's session."""

    user_id: int | None = None
    session_id: str | None = None


class AskError(Exception):
    """A question that cannot be taken; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CorpusFacts:
    """What the pipeline needs of the corpus, read once per question."""

    id: int
    name: str
    title: str
    policy: ReviewPolicy
    sensitive_topics: tuple[str, ...]


@dataclass
class Prepared:
    """A question on its way through the pipeline, once stored as ``generating``."""

    answer_id: str
    conversation_id: str
    corpus: CorpusFacts
    question: str  # as asked (masked)
    language: str
    previous: str | None  # the previous question of the conversation, standing alone
    verified: bool = False
    standalone: str = ""  # the question as searched (a follow-up rewritten)
    passages: list[Passage] = field(default_factory=list)
    searched: list[Passage] | None = None  # the question as asked, searched before storing
    candidates: list[Candidate] = field(default_factory=list)
    judgement: Judgement | None = None
    engine_calls: list[Generation] = field(default_factory=list)  # for tokens and energy

    @property
    def stream_allowed(self) -> bool:
        """Sentences are shown as they come unless every answer is held for review."""
        return self.corpus.policy != ReviewPolicy.always
