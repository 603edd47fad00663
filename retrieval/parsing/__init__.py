"""Turn an uploaded file into a :class:`ParsedDocument`, whatever its format.

The format is decided by the content (magic bytes, zip member names), never by the
extension alone: a renamed file is parsed for what it is, and a file that is none of the
supported formats is refused. The extension only tells plain text from Markdown (both are
just text), and HTML is also recognised by its markup.

Failures raise :class:`ParseError` with a machine code; the server turns codes into
user-facing messages.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from retrieval.parsing.errors import ParseError
from retrieval.parsing.markup import looks_like_html, parse_html, parse_markdown, parse_text
from retrieval.parsing.office import parse_docx, parse_odt, sniff_zip
from retrieval.parsing.pdf import parse_pdf
from retrieval.parsing.text import decode_text
from retrieval.types import ParsedDocument

__all__ = ["ParseError", "parse_document", "detect_format"]

logger = logging.getLogger(__name__)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Binary formats we recognise only to refuse them with a precise code.
_OTHER_BINARY = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"BZh",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"MZ",
    b"II*\x00",
    b"MM\x00*",
    b"{\\rtf",
)
_MARKDOWN_EXTENSIONS = {".md", ".markdown", ".mdown", ".mkd"}
_HTML_EXTENSIONS = {".html", ".htm", ".xhtml"}
_CONTAINER_EXTENSIONS = {".pdf", ".docx", ".odt"}


def detect_format(data: bytes, *, filename: str) -> str:
    """Return the format name of ``data``: pdf, docx, odt, html, markdown or text.

    Raises ParseError("unsupported_format"/"encrypted"/"corrupt") for anything else.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return sniff_zip(data, filename=filename)
    if head.startswith(_OLE_MAGIC):
        # Office files protected by a password are OLE containers holding an
        # "EncryptedPackage" stream; other OLE files are legacy .doc/.xls.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise ParseError("encrypted", filename, "password-protected Office document")
        raise ParseError("unsupported_format", filename, "legacy OLE document (.doc, .xls)")
    if head.startswith(_OTHER_BINARY):
        raise ParseError("unsupported_format", filename, "binary content")
    suffix = PurePath(filename).suffix.lower()
    if suffix in _CONTAINER_EXTENSIONS:
        # Named as a format Guichet reads, yet neither that nor another known format: a
        # damaged or truncated file, which « format not supported » would misdescribe.
        raise ParseError("corrupt", filename, f"{suffix} file without its signature")
    if b"\x00" in head:
        raise ParseError("unsupported_format", filename, "binary content")
    if suffix in _HTML_EXTENSIONS:
        return "html"
    if suffix in _MARKDOWN_EXTENSIONS:
        return "markdown"
    if looks_like_html(head):
        return "html"
    return "text"


def parse_document(
    data: bytes, *, filename: str, max_bytes: int, max_chars: int = 0
) -> ParsedDocument:
    """Parse an uploaded file into its title and sections (see module docstring);
    ParseError("too_much_text") past ``max_chars`` characters of text (0: no bound)."""
    if len(data) > max_bytes:
        raise ParseError("too_large", filename, f"{len(data)} bytes > {max_bytes}")
    if not data.strip():
        raise ParseError("empty", filename, "no content")
    fmt = detect_format(data, filename=filename)
    stem = PurePath(filename).stem or filename
    if fmt == "pdf":
        doc = parse_pdf(data, filename=filename, fallback_title=stem)
    elif fmt == "docx":
        doc = parse_docx(data, filename=filename, fallback_title=stem)
    elif fmt == "odt":
        doc = parse_odt(data, filename=filename, fallback_title=stem)
    else:
        text = decode_text(data, filename=filename)
        if fmt == "html":
            doc = parse_html(text, fallback_title=stem)
        elif fmt == "markdown":
            doc = parse_markdown(text, fallback_title=stem)
        else:
            doc = parse_text(text, fallback_title=stem)
    sections = [s for s in doc.sections if s.text.strip()]
    if not sections:
        raise ParseError("empty", filename, f"no text found in {fmt} document")
    characters = sum(len(s.text) for s in sections)
    if max_chars and characters > max_chars:
        raise ParseError("too_much_text", filename, f"{characters} characters > {max_chars}")
    logger.debug("parsed format=%s sections=%d", fmt, len(sections))
    return ParsedDocument(title=doc.title, sections=sections, format=fmt)
