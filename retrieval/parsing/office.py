"""DOCX (python-docx) and ODT (odfpy) parsers, behind a zip-bomb guard."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from retrieval.parsing.errors import ParseError
from retrieval.parsing.text import SectionBuilder, clean_inline
from retrieval.types import ParsedDocument

ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"

# Office documents are XML in a zip; real ones expand a few times, rarely past 20x.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 10_000
# The XML parsers build a tree of a whole part in memory (about 15 times its size, and
# minutes of CPU for tens of MB): each XML part is bounded on its own, whatever the ratio.
MAX_XML_BYTES = 16 * 1024 * 1024

_HEADING_STYLE = re.compile(r"^(?:heading|titre|überschrift|título)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|titre)$", re.IGNORECASE)


def _open_zip(data: bytes, filename: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ParseError("corrupt", filename, f"bad zip archive: {exc}") from exc


def check_archive(archive: zipfile.ZipFile, *, compressed_size: int, filename: str) -> None:
    """Refuse archives that would expand to too much (zip bombs) or hold encrypted members.

    The declared sizes bound what zipfile will ever return for a member (it stops at the
    declared size and checks the CRC), so checking them is enough.
    """
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ParseError("archive_too_large", filename, f"{len(infos)} members")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES or total > MAX_RATIO * max(compressed_size, 1):
        raise ParseError(
            "archive_too_large", filename, f"expands to {total} bytes from {compressed_size}"
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise ParseError("encrypted", filename, "encrypted zip members")
    for info in infos:
        if info.filename.endswith(".xml") and info.file_size > MAX_XML_BYTES:
            raise ParseError(
                "archive_too_large", filename, f"{info.filename} holds {info.file_size} bytes"
            )


def sniff_zip(data: bytes, *, filename: str) -> str:
    """Tell DOCX from ODT by the archive's members; anything else is unsupported."""
    with _open_zip(data, filename) as archive:
        names = set(archive.namelist())
        if "word/document.xml" in names:
            return "docx"
        if "mimetype" in names or "content.xml" in names:
            check_archive(archive, compressed_size=len(data), filename=filename)
            try:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                raise ParseError("corrupt", filename, "unreadable mimetype") from exc
            if mimetype == ODT_MIMETYPE:
                return "odt"
            raise ParseError("unsupported_format", filename, f"OpenDocument {mimetype}")
    raise ParseError("unsupported_format", filename, "zip archive that is not DOCX or ODT")


def parse_docx(data: bytes, *, filename: str, fallback_title: str) -> ParsedDocument:
    """Headings come from paragraph styles (Heading N / Titre N) or outline levels."""
    import docx  # python-docx; imported here to keep module import light
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    with _open_zip(data, filename) as archive:
        check_archive(archive, compressed_size=len(data), filename=filename)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on malformed XML
        raise ParseError("corrupt", filename, f"unreadable DOCX: {type(exc).__name__}") from exc

    builder = SectionBuilder()
    title = clean_inline(document.core_properties.title or "")
    first_heading = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            builder.paragraph("\n".join(_docx_table_rows(block)))
            continue
        if not isinstance(block, Paragraph):
            continue
        text = block.text
        style_name = block.style.name if block.style is not None else ""
        level = _docx_heading_level(block, style_name or "")
        if _TITLE_STYLE.match(style_name or ""):
            title = title or clean_inline(text)
        elif level is not None:
            if not first_heading:
                first_heading = clean_inline(text)
            builder.heading(level, text)
        else:
            builder.paragraph(text)
    sections = builder.finish()
    return ParsedDocument(title or first_heading or fallback_title, sections, "docx")


def _docx_heading_level(paragraph: object, style_name: str) -> int | None:
    match = _HEADING_STYLE.match(style_name.strip())
    if match:
        return int(match.group(1))
    # Custom styles can still carry an outline level (0-based, 9 = body text).
    ppr = getattr(getattr(paragraph, "_p", None), "pPr", None)
    outline = getattr(ppr, "outlineLvl", None) if ppr is not None else None
    if outline is not None:
        value = int(outline.val)
        return value + 1 if value < 9 else None
    return None


def _docx_table_rows(table: object) -> Iterator[str]:
    for row in getattr(table, "rows", []):
        cells = [clean_inline(cell.text) for cell in row.cells]
        # Merged cells repeat their text in python-docx: keep each value once per row.
        unique = list(dict.fromkeys(c for c in cells if c))
        if unique:
            yield " | ".join(unique)


def parse_odt(data: bytes, *, filename: str, fallback_title: str) -> ParsedDocument:
    """Headings are ``text:h`` elements with their ``text:outline-level``."""
    from odf import teletype
    from odf.element import Element
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    with _open_zip(data, filename) as archive:
        check_archive(archive, compressed_size=len(data), filename=filename)
        manifest = (
            archive.read("META-INF/manifest.xml")
            if "META-INF/manifest.xml" in (archive.namelist())
            else b""
        )
    if b"encryption-data" in manifest:
        raise ParseError("encrypted", filename, "password-protected ODT")
    try:
        document = load(io.BytesIO(data))
    except Exception as exc:  # odfpy raises zip, XML and key errors alike
        raise ParseError("corrupt", filename, f"unreadable ODT: {type(exc).__name__}") from exc

    builder = SectionBuilder()
    first_heading = ""

    def walk(node: Element) -> None:
        nonlocal first_heading
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname == (TEXTNS, "h"):
                text = teletype.extractText(child)
                level = int(child.getAttrNS(TEXTNS, "outline-level") or 1)
                if not first_heading:
                    first_heading = clean_inline(text)
                builder.heading(level, text)
            elif child.qname == (TEXTNS, "p"):
                builder.paragraph(teletype.extractText(child))
            else:  # lists, tables, sections, frames: descend
                walk(child)

    walk(document.text)
    title = clean_inline(_odt_meta_title(document)) or first_heading or fallback_title
    return ParsedDocument(title, builder.finish(), "odt")


def _odt_meta_title(document: object) -> str:
    from odf import teletype
    from odf.namespaces import DCNS

    meta = getattr(document, "meta", None)
    if meta is None:
        return ""
    for child in meta.childNodes:
        if getattr(child, "qname", None) == (DCNS, "title"):
            return str(teletype.extractText(child))
    return ""
