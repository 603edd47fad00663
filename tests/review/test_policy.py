"""What outcome an answer gets from its flags and the corpus's review policy."""

from __future__ import annotations

import pytest

from corpora.models import ReviewPolicy
from review.models import AnswerStatus
from review.policy import Reason, decide, flag


def test_where_nobody_reviews_a_weakly_supported_answer_is_declined_not_released() -> None:
    doubt = flag(Reason.weak_support, "0.80")
    decision = decide(policy=ReviewPolicy.never, reasons=[doubt], has_answer=True)

    assert decision.status == AnswerStatus.declined
    assert decision.reasons == [doubt]


@pytest.mark.parametrize(
    "reason", [Reason.sensitive_topic, Reason.truncated, Reason.citation_invalid]
)
def test_where_nobody_reviews_an_answer_without_doubt_is_released(reason: Reason) -> None:
    clean = decide(policy=ReviewPolicy.never, reasons=[], has_answer=True)
    # A topic says nothing against the answer; what is kept of a cut or badly cited
    # draft passed every check.
    flagged = decide(policy=ReviewPolicy.never, reasons=[flag(reason)], has_answer=True)

    assert clean.status == AnswerStatus.released
    assert flagged.status == AnswerStatus.released


def test_a_doubtful_answer_waits_for_a_person_where_flagged_answers_are_reviewed() -> None:
    decision = decide(
        policy=ReviewPolicy.flagged, reasons=[flag(Reason.weak_support)], has_answer=True
    )

    assert decision.status == AnswerStatus.pending_review
    assert decision.priority == 20


def test_every_answer_waits_where_all_are_reviewed_and_nothing_is_released_without_text() -> None:
    held = decide(policy=ReviewPolicy.always, reasons=[], has_answer=True)
    empty = decide(policy=ReviewPolicy.never, reasons=[], has_answer=False)

    assert held.status == AnswerStatus.pending_review
    assert held.reasons == [flag(Reason.policy_always)]
    assert empty.status == AnswerStatus.declined
