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
            "la phrase principale de la réponse répond mal à la question (score 1,02)",
        ),
        ("en", "focus 0.07", "the answer says little of what the question asks (share 0.07)"),
        ("fr", "stray 1.4", "la réponse cite une autre page que la plus pertinente (score 1,40)"),
        ("fr", "followup_subject", "la réponse ne nomme pas le sujet de la question de suite"),
        ("fr", "0.81", "0.81"),  # a coverage score alone is shown as stored
        ("fr", "lead high", "lead high"),  # not a score: as stored, never an error
    ],
)
def test_a_flag_detail_is_said_in_words(language: str, stored: str, shown: str) -> None:
    assert _detail(Translator(language), stored) == shown
