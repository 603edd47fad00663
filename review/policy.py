"""Which outcome an answer gets, from measured signals and the corpus policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from corpora.models import ReviewPolicy
from review.grounding import content_stems
from review.models import AnswerStatus


class Reason(enum.StrEnum):
    """Why an answer was flagged; each has a priority in the queue."""

    weak_support = "weak_support"
    citation_invalid = "citation_invalid"
    unsupported_sentence = "unsupported_sentence"
    sensitive_topic = "sensitive_topic"
    human_requested = "human_requested"
    negative_feedback = "negative_feedback"
    policy_always = "policy_always"
    engine_unavailable = "engine_unavailable"
    personal_data = "personal_data"
    truncated = "truncated"
    interrupted = "interrupted"


PRIORITY = {
    Reason.human_requested: 50,
    Reason.engine_unavailable: 45,
    Reason.interrupted: 45,
    Reason.negative_feedback: 40,
    Reason.sensitive_topic: 35,
    Reason.citation_invalid: 30,
    Reason.unsupported_sentence: 25,
    Reason.truncated: 25,
    Reason.weak_support: 20,
    Reason.personal_data: 15,
    Reason.policy_always: 10,
}


@dataclass(frozen=True)
class Thresholds:
    """Coverage levels (``review.coverage``), calibrated by the rules of docs/answers.md.

    Coverage is the share of what the question is specifically about (its terms weighed
    by their idf in the corpus) that the best unit of the passages answers.
    """

    # Below: decline without asking the model.
    decline_below: float = 0.35
    # Below (and above decline_below): answer, but flag as weak support, so a corpus with
    # the "flagged" policy holds it.
    weak_below: float = 0.55


@dataclass
class Decision:
    status: AnswerStatus
    reasons: list[dict[str, str]] = field(default_factory=list)

    @property
    def priority(self) -> int:
        return max((PRIORITY[Reason(r["code"])] for r in self.reasons), default=0)


def flag(code: Reason, detail: str = "") -> dict[str, str]:
    return {"code": code.value, "detail": detail}


# Flags that doubt the answer itself (not its topic): where nobody reviews answers (policy
# ``never``), such an answer is not released but declined: right or silent.
DOUBTS = frozenset({Reason.weak_support, Reason.citation_invalid, Reason.truncated})


def decide(*, policy: ReviewPolicy, reasons: list[dict[str, str]], has_answer: bool) -> Decision:
    """Release, hold for review, or decline."""
    if not has_answer:
        return Decision(AnswerStatus.declined, reasons)
    if policy == ReviewPolicy.never and any(Reason(r["code"]) in DOUBTS for r in reasons):
        return Decision(AnswerStatus.declined, reasons)
    if policy == ReviewPolicy.always:
        return Decision(AnswerStatus.pending_review, [*reasons, flag(Reason.policy_always)])
    if policy == ReviewPolicy.flagged and reasons:
        return Decision(AnswerStatus.pending_review, reasons)
    return Decision(AnswerStatus.released, reasons)


def sensitive_topic(question: str, topics: list[str]) -> dict[str, str] | None:
    """The ``sensitive_topic`` flag when the question touches one of the corpus's topics.

    A topic matches when all its content words appear in the question, compared as
    French stems without accents: « harcèlement » matches « j'ai été harcelé », and
    « violences conjugales » needs both words. The flag's detail is the topic as the
    corpus owner wrote it, never the question (it may hold personal data).
    """
    asked = set(content_stems(question))
    for topic in topics:
        wanted = set(content_stems(topic))
        if wanted and wanted <= asked:
            return flag(Reason.sensitive_topic, topic.strip()[:100])
    return None
