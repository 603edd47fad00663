"""What outcome an answer gets from its flags and the corpus's review policy."""

from __future__ import annotations

import pytest

from corpora.models import ReviewPolicy
from review.models import AnswerStatus
from review.policy import Reason, decide, flag


@pytest.mark.parametrize("doubt", [Reason.weak_support, Reason.citation_invalid, Reason.truncated])
def test_where_nobody_reviews_a_doubtful_answer_is_declined_not_released(doubt: Reason) -> None:
    decision = decide(policy=ReviewPolicy.never, reasons=[flag(doubt)], has_answer=True)

    assert decision.status == AnswerStatus.declined
    assert decision.reasons == [flag(doubt)]


def test_where_nobody_reviews_an_answer_without_doubt_is_released() -> None:
    clean = decide(policy=ReviewPolicy.never, reasons=[], has_answer=True)
    # A sensitive topic says nothing against the answer's correctness.
    sensitive = decide(
        policy=ReviewPolicy.never, reasons=[flag(Reason.sensitive_topic, "santé")], has_answer=True
    )

    assert clean.status == AnswerStatus.released
    assert sensitive.status == AnswerStatus.released


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
