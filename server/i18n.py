"""The one translation layer: every user-facing message comes from a catalog, and every
number, date and size shown is formatted by Babel in the reader's language.

French is the reference language; English is the second. A key missing from English
falls back to French, and a test checks both catalogs hold the same keys.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_CATALOGS = Path(__file__).parent / "translations"


@cache
def catalog(language: str) -> dict[str, str]:
    return json.loads((_CATALOGS / f"{language}.json").read_text(encoding="utf-8"))


class Translator:
    """Messages of one language, with ``{name}`` placeholders filled in, and the formats
    of that language for numbers, shares, dates, times and sizes."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: object) -> str:
        text = catalog(self.language).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
        return text.format(**values) if values else text

    def number(self, value: float, decimals: int = 0) -> str:
        """« 12 345,7 » in French, "12,345.7" in English."""
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.language)

    def percent(self, share: float) -> str:
        """A share (0 to 1) as a whole percentage: « 46 % », "46%"."""
        return format_percent(share, locale=self.language)

    def date(self, moment: datetime) -> str:
        """The day, in the server's time zone: « 21/11/2026 », "11/21/26"."""
        return format_date(moment.astimezone(), "short", locale=self.language)

    def time(self, moment: datetime) -> str:
        """The hour and minute, in the server's time zone: « 14:05 »."""
        return format_time(moment.astimezone(), "HH:mm", locale=self.language)

    def datetime(self, moment: datetime) -> str:
        """Day and time, in the server's time zone: « 21/11/2026 14:05 »."""
        return format_datetime(moment.astimezone(), "short", locale=self.language)

    def duration(self, seconds: float) -> str:
        """A waiting time people read at a glance (« 2 h 05 min », « 3 j 4 h »)."""
        minutes = int(seconds // 60)
        if minutes < 60:
            return self("review.duration.minutes", minutes=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 24 and minutes == 0:
            return self("review.duration.whole_hours", hours=hours)
        if hours < 24:
            return self("review.duration.hours", hours=hours, minutes=f"{minutes:02d}")
        days, hours = divmod(hours, 24)
        return self("review.duration.days", days=days, hours=hours)

    def megabytes(self, value: float) -> str:
        """A size limit: « 20 Mo », "20 MB"."""
        return format_unit(value, "digital-megabyte", length="short", locale=self.language)


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The language to answer in: an explicit choice first, then the browser's preferences
    in the order of their q-values (``fr;q=0.4, en`` prefers English)."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    preferred = [tag for _, _, tag in sorted(ranked)]
    chosen = negotiate_locale(preferred, LANGUAGES, sep="-")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE
