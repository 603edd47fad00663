"""What a question is while it goes through the pipeline: who asks, the answer mode, and
what each step has found so far."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from corpora.models import ReviewPolicy
from retrieval.types import Passage
from review.coverage import Judgement, stray_lead, weak_lead
from review.extractive import Candidate, Composition
from review.policy import Reason, flag
from server.answers.followups import FollowUps
from server.engine.client import Generation

# Served models too small to write grounded prose: `auto` answers extractively with them.
SMALL_MODELS = re.compile(r"smollm|135m|360m", re.I)
# Below this share of the question's weight said by the answer and its headings, the
# answer is held: the highest level that holds at most 5 % of right answers on each
# calibration set (scripts/calibrate_answers.py, docs/answers.md).
ANSWER_FOCUS = 0.2  # 0.1 until the questions were searched written out (3 December)


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
    # The titles of the documents the previous answer cited: what it turned out to be about.
    previous_titles: tuple[str, ...] = ()
    verified: bool = False
    written: str = ""  # the question with its typing shortcuts written out (French)
    standalone: str = ""  # the question as searched (written out; a follow-up rewritten)
    passages: list[Passage] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    judgement: Judgement | None = None
    engine_calls: list[Generation] = field(default_factory=list)  # for tokens and energy
    doubtful: bool = False  # weak support, known from retrieval before anything is shown

    @property
    def stream_allowed(self) -> bool:
        """Sentences are shown as they come unless every answer is held for review, or the
        answer is doubtful (held for a person, or declined where nobody reviews): the
        asker never reads an answer that is then taken back."""
        return not self.doubtful and self.corpus.policy != ReviewPolicy.always

    @property
    def declined_anyway(self) -> bool:
        """Nobody reviews and the answer is doubtful: it will be declined whatever the model
        writes, so the model is not asked and the asker is told at once."""
        return self.corpus.policy == ReviewPolicy.never and self.doubtful

    def doubt(
        self,
        extractive: Composition | None,
        followups: FollowUps,
        *,
        known: Callable[[str], bool],
        answer: tuple[str, list[int]] | None = None,
    ) -> dict[str, str] | None:
        """The weak-support flag, when the passages or the answer call for it. ``answer``
        is the text served and the passages it cites (the composed one by default);
        ``known`` tells the terms the corpus holds."""
        if self.judgement is not None and self.judgement.weak:
            return flag(Reason.weak_support, f"{self.judgement.score:.2f}")
        if extractive is None:
            return None
        if extractive.coverage < ANSWER_FOCUS:
            # The answer does not name what the question is about: a person should look.
            return flag(Reason.weak_support, f"focus {extractive.coverage:.2f}")
        lead, judgement = extractive.best, self.judgement
        if lead and judgement and weak_lead(lead, self.candidates, judgement.rule.lead_floor):
            # Most answers quoting such a unit were wrong (docs/answers.md).
            return flag(Reason.weak_support, f"lead {lead.score:.2f}")
        documents = [p.chunk.document_id for p in self.passages]
        if lead and judgement and stray_lead(lead, documents, judgement.rule.stray_floor):
            # The best-ranked page says something else: most such answers quoted the
            # wrong page (docs/answers.md).
            return flag(Reason.weak_support, f"stray {lead.score:.2f}")
        text, cited = answer or (extractive.text, extractive.cited)
        headings = [self.passages[n - 1].chunk for n in cited]
        named = " ".join([text, *(f"{c.title} {c.section}" for c in headings)])
        if not followups.names_subject(
            question=self.written or self.question,
            previous=self.previous,
            answer=named,
            known=known,
        ):
            return flag(Reason.weak_support, "followup_subject")
        return None
