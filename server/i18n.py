"""The one translation layer: every user-facing message comes from a catalog.

French is the reference language; English is the second. A key missing from
English falls back to French, and a test checks both catalogs hold the same keys.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_CATALOGS = Path(__file__).parent / "translations"


@cache
def catalog(language: str) -> dict[str, str]:
    return json.loads((_CATALOGS / f"{language}.json").read_text(encoding="utf-8"))


class Translator:
    """Messages of one language, with ``{name}`` placeholders filled in."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: object) -> str:
        text = catalog(self.language).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
        return text.format(**values) if values else text


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The language to answer in: an explicit choice first, then the browser's."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE
