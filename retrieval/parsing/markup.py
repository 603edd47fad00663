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
    """ATX (``#``) and setext headings give the section paths; fenced code is kept as text."""
    builder = SectionBuilder()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
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
    """Plain text: one section; a short first line followed by a blank line is the title."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    title = fallback_title
    first, sep, rest = text.partition("\n\n")
    if sep and "\n" not in first and len(first) <= 120:
        title, text = clean_inline(first), rest
    builder = SectionBuilder()
    for block in text.split("\n\n"):
        builder.paragraph(block)
    return ParsedDocument(title, builder.finish(), "text")
