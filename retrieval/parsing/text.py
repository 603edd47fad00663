"""Helpers shared by the parsers: decoding and whitespace clean-up."""

from __future__ import annotations

import re

from retrieval.parsing.errors import ParseError
from retrieval.types import Section

_SPACES = re.compile(r"[ \t\u00a0\u202f\u2009]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def decode_text(data: bytes, *, filename: str) -> str:
    """Decode bytes as UTF-8 (BOM allowed), else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError("corrupt", filename, "invalid UTF-16") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def clean_inline(text: str) -> str:
    """Collapse runs of spaces (including non-breaking ones) on one line."""
    return _SPACES.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """Normalise a block: trimmed lines, at most one blank line between paragraphs."""
    lines = [
        clean_inline(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class SectionBuilder:
    """Accumulates paragraphs under the current heading path and emits sections.

    Parsers feed headings (with their level) and paragraphs in document order; a new
    heading closes the current section. Levels may skip (h1 then h3): the path keeps only
    the headings of lower level than the new one.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._paragraphs: list[str] = []
        self._page: int | None = None
        self.sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        text = clean_inline(text)
        if not text:
            return
        self.flush()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))

    def paragraph(self, text: str, *, page: int | None = None) -> None:
        text = clean_block(text)
        if not text:
            return
        if page != self._page and self._paragraphs:
            self.flush()
        self._page = page
        self._paragraphs.append(text)

    def flush(self) -> None:
        if self._paragraphs:
            path = tuple(t for _, t in self._stack)
            self.sections.append(Section(path, "\n\n".join(self._paragraphs), self._page))
        self._paragraphs = []

    def finish(self, *, drop_title: str | None = None) -> list[Section]:
        """Close the last section; strip ``drop_title`` when it heads every path."""
        self.flush()
        if drop_title and all(s.heading_path[:1] == (drop_title,) for s in self.sections):
            return [Section(s.heading_path[1:], s.text, s.page) for s in self.sections]
        return self.sections
