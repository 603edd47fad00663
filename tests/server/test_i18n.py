"""The translation layer: the language a browser prefers (q-values included) and numbers,
shares, dates and sizes as each language writes them (Babel)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.i18n import Translator, negotiate


@pytest.mark.parametrize(
    ("header", "cookie", "language"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", None, "fr"),
        ("fr;q=0.4, en", None, "en"),  # the order of the header is not the preference
        ("de, en-GB;q=0.8, fr;q=0.7", None, "en"),
        ("EN-us", None, "en"),
        ("en;q=0, fr;q=0.1", None, "fr"),  # q=0: not acceptable
        ("de, it", None, "fr"),
        (None, None, "fr"),
        ("en", "fr", "fr"),  # an explicit choice wins
    ],
)
def test_negotiation(header: str | None, cookie: str | None, language: str) -> None:
    assert negotiate(header, cookie) == language


def test_formats_follow_the_language() -> None:
    moment = datetime(2026, 11, 21, 12, 5, tzinfo=UTC)
    french, english = Translator("fr"), Translator("en")
    assert french.number(12345.67, 1) == "12\u202f345,7"
    assert english.number(12345.67, 1) == "12,345.7"
    assert french.percent(0.456) == "46\xa0%" and english.percent(0.456) == "46%"
    assert french.megabytes(2) == "2\u202fMo" and english.megabytes(2.5) == "2.5 MB"
    assert french.date(moment).endswith("/11/2026")  # in the server's time zone
    assert len(french.time(moment)) == 5 and french.time(moment)[2] == ":"


def test_durations_read_at_a_glance() -> None:
    french = Translator("fr")
    assert french.duration(5 * 60) == "5 min"
    assert french.duration(2 * 3600) == "2 h"  # not « 2 h 00 min »
    assert french.duration(2 * 3600 + 5 * 60) == "2 h 05 min"
    assert french.duration(26 * 3600) == "1 j 2 h"
