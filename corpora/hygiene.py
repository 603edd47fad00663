"""Text that people type or send, made safe to store and to show, in one place.

Questions, corpus and account names and file names all pass through here before they are
checked or stored: NFC normalisation (so that « é » typed two ways is one name), and no
control characters (NUL, BEL, ESC...) nor invisible format characters: zero-width spaces
and, above all, bidirectional overrides (U+202E makes « txt.exe » read « exe.txt » and a
question read differently to a reviewer than it was written).

It lives in corpora/, the lowest room that both accounts/ and server/ may import.
"""

from __future__ import annotations

import re
import unicodedata

# Kept in multi-line text: newline and tab. Everything else of categories Cc (controls),
# Cf (format: bidi embeddings, overrides and isolates, zero-width characters, BOM), Co
# (private use), Cs (lone surrogates) and Cn (unassigned) goes.
_KEPT = {"\n", "\t"}
_DROPPED = {"Cc", "Cf", "Co", "Cs", "Cn"}
_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """``value`` in NFC without control or invisible format characters (newlines and tabs
    kept; a carriage return becomes a newline)."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c for c in value if c in _KEPT or unicodedata.category(c) not in _DROPPED)


def clean_line(value: str) -> str:
    """:func:`clean_text` on one line: runs of white space (newlines included) become one
    space, and none is left at either end."""
    return _SPACES.sub(" ", clean_text(value)).strip()


def is_blank(value: str) -> bool:
    """Whether nothing visible is left once cleaned (spaces, tabs, zero-width spaces)."""
    return not clean_line(value)


def full_match(pattern: re.Pattern[str], value: str) -> bool:
    """Whether ``pattern`` matches all of ``value``: ``$`` alone also matches before a
    final newline, which let « agent\\n » pass for a name."""
    return pattern.fullmatch(value) is not None
