"""What a reviewer reads of a flag's detail: words in their language, never a bare code."""

from __future__ import annotations

import pytest

from server.i18n import Translator
from server.reviews.service import _detail


@pytest.mark.parametrize(
    ("language", "stored", "shown"),
    [
        (
            "fr",
            "lead 1.02",
            "la phrase principale de la réponse répond mal à la question : score 1,02",
        ),
        ("en", "focus 0.07", "the answer says little of what the question asks: share 0.07"),
        ("fr", "stray 1.4", "la réponse cite une autre page que la plus pertinente : score 1,40"),
        ("fr", "0.81", "les documents couvrent peu la question : score 0,81"),
        ("fr", "followup_subject", "la réponse ne nomme pas le sujet de la question de suite"),
        ("fr", "lead", "lead"),  # a score was expected: as stored, never « {score} »
        ("fr", "lead high", "lead high"),  # not a score: as stored, never an error
    ],
)
def test_a_weak_support_detail_is_said_in_words(language: str, stored: str, shown: str) -> None:
    assert _detail(Translator(language), "weak_support", stored) == shown


def test_other_flags_keep_their_detail() -> None:
    # A sensitive topic's detail is the topic as the corpus names it.
    assert _detail(Translator("fr"), "sensitive_topic", "lead 1.02") == "lead 1.02"
