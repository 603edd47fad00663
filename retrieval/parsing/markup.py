"""Parsers for text formats: HTML, Markdown and plain text."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

from retrieval.parsing.text import SectionBuilder, clean_inline
from retrieval.types import ParsedDocument

_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
# Page furniture and code, not content.
_DROPPED_TAGS = [
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "iframe",
    "svg",
    "head",
    "form",
    "button",
]
_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "dl",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "br",
    "hr",
    "figcaption",
    "caption",
    "address",
}
_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)",
    re.IGNORECASE | re.DOTALL,
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_SETEXT = re.compile(r"^(=+|-+)\s*$")


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes open an HTML document."""
    return bool(_HTML_START.match(head))


def parse_html(text: str, *, fallback_title: str) -> ParsedDocument:
    """Headings h1-h6 give the section paths; scripts, styles and navigation are dropped."""
    soup = BeautifulSoup(text, "html.parser")
    title_tag = soup.find("title")
    page_title = clean_inline(title_tag.get_text()) if title_tag else ""
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    root = soup.body or soup
    builder = SectionBuilder()
    first_h1 = ""
    buffer: list[str] = []

    def flush_text() -> None:
        if buffer:
            builder.paragraph("".join(buffer))
            buffer.clear()

    def walk(node: Tag) -> None:
        nonlocal first_h1
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # skip comments, CDATA, doctypes
                    buffer.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in _HEADINGS:
                flush_text()
                heading = clean_inline(child.get_text(" "))
                if child.name == "h1" and not first_h1:
                    first_h1 = heading
                builder.heading(int(child.name[1]), heading)
            elif child.name in _BLOCK_TAGS:
                flush_text()
                walk(child)
                flush_text()
            else:
                walk(child)

    walk(root)
    flush_text()
    title = page_title or first_h1 or fallback_title
    return ParsedDocument(title, builder.finish(drop_title=first_h1 or None), "html")


def parse_markdown(text: str, *, fallback_title: str) -> ParsedDocument:
    """ATX (``#``) and setext headings give the section paths; fenced code is kept as text.

    A long page whose only Markdown heading is its title (a web page saved as text, a
    service-public fiche) has its headings as plain lines: they are found as
    ``plain_line_headings`` describes. A short page (an FAQ entry) is left whole: it makes
    few passages, and its short lines are more often list items than headings.
    """
    builder = SectionBuilder()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if sum(1 for line in lines if _MD_HEADING.match(line)) <= 1 and len(text) >= LONG_PAGE:
        lines = _mark_plain_headings(lines)
    paragraph: list[str] = []
    in_fence = False
    first_h1 = ""

    def flush() -> None:
        if paragraph:
            builder.paragraph("\n".join(paragraph))
            paragraph.clear()

    def heading(level: int, text: str) -> None:
        nonlocal first_h1
        flush()
        if level == 1 and not first_h1:
            first_h1 = clean_inline(text)
        builder.heading(level, text)

    for line in lines:
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            paragraph.append(line)
            continue
        if in_fence:
            paragraph.append(line)
            continue
        match = _MD_HEADING.match(line)
        if match:
            heading(len(match.group(1)), match.group(2))
        elif _MD_SETEXT.match(line) and len(paragraph) == 1 and paragraph[0].strip():
            underline = paragraph.pop()
            heading(1 if line.lstrip().startswith("=") else 2, underline)
        elif not line.strip():
            flush()
        else:
            paragraph.append(line)
    flush()
    title = first_h1 or fallback_title
    return ParsedDocument(title, builder.finish(drop_title=first_h1 or None), "markdown")


def parse_text(text: str, *, fallback_title: str) -> ParsedDocument:
    """Plain text: a short first line followed by a blank line is the title; headings are
    plain lines (see ``plain_line_headings``)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    title = fallback_title
    first, sep, rest = text.partition("\n\n")
    if sep and "\n" not in first and len(first) <= 120:
        title, text = clean_inline(first), rest
    builder = SectionBuilder()
    paragraph: list[str] = []
    levels = plain_line_headings(text.split("\n")) if len(text) >= LONG_PAGE else {}
    for number, line in enumerate(text.split("\n")):
        if number in levels:
            if paragraph:
                builder.paragraph("\n".join(paragraph))
                paragraph = []
            builder.heading(levels[number], line)
        elif not line.strip():
            if paragraph:
                builder.paragraph("\n".join(paragraph))
                paragraph = []
        else:
            paragraph.append(line)
    if paragraph:
        builder.paragraph("\n".join(paragraph))
    return ParsedDocument(title, builder.finish(), "text")


# Characters from which a page without markup is cut into sections at its plain-line
# headings: about four passages.
LONG_PAGE = 4000
_END_PUNCTUATION = (".", ",", ";", ":", "!", "…", "»", ")")
_NAVIGATION_TRAIL = re.compile(r"\S\s>\s\S")


def plain_line_headings(lines: list[str]) -> dict[int, int]:
    """Which lines of a page without markup are headings, and their level (2 or 3).

    A heading is a short line (at most 12 words, 90 characters) that starts with a
    capital or a digit and does not end a sentence (a final « ? » is allowed: « Qui peut
    faire la demande ? »). Short lines that follow a lead-in ending with « : », or another
    such item, are list items, not headings; navigation trails (« Logement > Location »)
    and fields (« Thème : Internet ») are text. Levels: a heading ending with « ? », or
    directly followed by another heading, opens a part (level 2); the others are its
    subsections (level 3).
    """
    candidates: list[int] = []
    in_list = False
    previous = ""
    for number, raw in enumerate(lines):
        line = clean_inline(raw)
        if not line:
            continue
        short = len(line) <= 90 and len(line.split()) <= 12
        unpunctuated = not line.endswith(_END_PUNCTUATION)
        starts_capital = line[0].isupper() or line[0].isdigit()
        if previous.endswith(":"):
            in_list = True
        elif not (short and unpunctuated) or not starts_capital:
            in_list = in_list and short and not line.endswith((".", "?"))
        if (
            short
            and unpunctuated
            and starts_capital
            and not in_list
            and not _NAVIGATION_TRAIL.search(line)
            and " : " not in line  # a field (« Thème : Internet »), not a heading
            and not line.startswith("#")
        ):
            candidates.append(number)
        elif line.endswith((".", "?", "!")) and not short:
            in_list = False
        previous = line
    levels: dict[int, int] = {}
    following = {a: b for a, b in zip(candidates, candidates[1:], strict=False)}
    for number in candidates:
        nxt = following.get(number)
        directly_followed = nxt is not None and not any(
            lines[i].strip() for i in range(number + 1, nxt)
        )
        opens_part = lines[number].strip().endswith("?") or directly_followed
        levels[number] = 2 if opens_part else 3
    return levels


def _mark_plain_headings(lines: list[str]) -> list[str]:
    """Plain-line headings rewritten as Markdown headings, blank lines around them."""
    levels = plain_line_headings(lines)
    out: list[str] = []
    for number, line in enumerate(lines):
        if number in levels:
            out += ["", "#" * levels[number] + " " + clean_inline(line), ""]
        else:
            out.append(line)
    return out
