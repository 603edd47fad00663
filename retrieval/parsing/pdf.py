"""PDF parser (pypdf), keeping page numbers; OCR through Tesseract for scanned pages."""

from __future__ import annotations

import logging
import shutil
import subprocess
import zlib
from io import BytesIO
from typing import Any

from retrieval.parsing.errors import ParseError
from retrieval.parsing.text import SectionBuilder, clean_inline
from retrieval.types import ParsedDocument

logger = logging.getLogger(__name__)

# Below this many characters of text per page on average, a PDF is taken as scanned.
_MIN_CHARS_PER_PAGE = 20
_OCR_TIMEOUT_S = 120
# Raw pixels handed to Tesseract for one image: an A4 page scanned in colour at 300 dpi is
# about 26 MB; anything larger is not a page scan.
MAX_IMAGE_BYTES = 64 * 1024 * 1024


def parse_pdf(data: bytes, *, filename: str, fallback_title: str) -> ParsedDocument:
    """One section per page (``Section.page`` is 1-based), headed by the PDF outline."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("encrypted", filename, "password-protected PDF")
        pages = list(reader.pages)
    except ParseError:
        raise
    except PdfReadError as exc:
        raise ParseError("corrupt", filename, f"unreadable PDF: {type(exc).__name__}") from exc
    except Exception as exc:  # malformed PDFs make pypdf fail in many ways; all mean corrupt
        raise ParseError("corrupt", filename, f"unreadable PDF: {type(exc).__name__}") from exc
    if not pages:
        raise ParseError("empty", filename, "PDF without pages")

    texts: list[str] = []
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # one broken content stream should not hide the others
            logger.warning("pdf page unreadable: %s", type(exc).__name__)
            texts.append("")
    if sum(len(t.strip()) for t in texts) < _MIN_CHARS_PER_PAGE * len(pages):
        texts = _ocr_pages(pages, filename=filename, texts=texts)

    headings = _outline_by_page(reader)
    builder = SectionBuilder()
    for number, text in enumerate(texts, start=1):
        for level, heading in headings.get(number, []):
            builder.heading(level, heading)
        builder.paragraph(text, page=number)
    title = _metadata_title(reader) or _first_line(texts) or fallback_title
    return ParsedDocument(title, builder.finish(), "pdf")


def _metadata_title(reader: Any) -> str:
    try:
        metadata = reader.metadata
        return clean_inline(str(metadata.title)) if metadata and metadata.title else ""
    except Exception:  # malformed info dictionaries are common and harmless
        return ""


def _first_line(texts: list[str]) -> str:
    for text in texts:
        for line in text.splitlines():
            line = clean_inline(line)
            if line:
                return line[:200]
    return ""


def _outline_by_page(reader: Any) -> dict[int, list[tuple[int, str]]]:
    """Map 1-based page numbers to the bookmarks (level, title) that start there."""
    result: dict[int, list[tuple[int, str]]] = {}

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
                result.setdefault(page, []).append((level, str(item.title)))
            except Exception:  # bookmarks pointing nowhere are skipped
                continue

    try:
        walk(reader.outline, 1)
    except Exception:
        return {}
    return result


def _ocr_pages(pages: list[Any], *, filename: str, texts: list[str]) -> list[str]:
    """OCR the images of pages without a text layer, or refuse the file."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise ParseError("no_text_layer", filename, "scanned PDF and Tesseract is not installed")
    result = []
    for page, text in zip(pages, texts, strict=True):
        if len(text.strip()) >= _MIN_CHARS_PER_PAGE:
            result.append(text)
            continue
        parts = [_ocr_image(tesseract, image) for image in _page_images(page)]
        result.append("\n".join(p for p in parts if p))
    if not any(t.strip() for t in result):
        raise ParseError("no_text_layer", filename, "no text found by OCR")
    return result


def _page_images(page: Any) -> list[bytes]:
    """Encoded images (JPEG, JPEG 2000, or PNM built from raw pixels) drawn on a page.

    Built by hand rather than with pypdf's image helpers, which need Pillow.
    """
    images: list[bytes] = []
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
    except (KeyError, TypeError, AttributeError):
        return images
    for ref in xobjects.values():
        obj = ref.get_object()
        if obj.get("/Subtype") != "/Image":
            continue
        filters = obj.get("/Filter")
        filters = list(filters) if isinstance(filters, list) else [filters]
        raw = obj._data  # still encoded
        if filters[-1:] in (["/DCTDecode"], ["/JPXDecode"]) and len(filters) == 1:
            images.append(raw)
            continue
        try:
            width, height = int(obj["/Width"]), int(obj["/Height"])
        except (KeyError, TypeError, ValueError):
            continue
        colors = {"/DeviceGray": 1, "/DeviceRGB": 3}.get(str(obj.get("/ColorSpace")))
        if colors is None or int(obj.get("/BitsPerComponent", 8)) != 8:
            continue
        expected = width * height * colors
        if not 0 < expected <= MAX_IMAGE_BYTES:
            logger.warning("pdf image of %dx%d skipped: too large to OCR", width, height)
            continue
        try:
            pixels = (
                _inflate(raw, expected) if filters == ["/FlateDecode"] else _decoded(obj, expected)
            )
        except Exception:
            continue
        if pixels is None or len(pixels) < expected:
            continue
        pixels = pixels[:expected]
        magic = b"P5" if colors == 1 else b"P6"
        images.append(magic + f"\n{width} {height}\n255\n".encode() + pixels)
    return images


def _inflate(raw: bytes, expected: int) -> bytes:
    """Deflate-decoded pixels, never more than the image needs: a few kilobytes of zeros
    compressed at 1:1000 must not become gigabytes in memory."""
    return zlib.decompressobj().decompress(raw, max_length=expected)


def _decoded(obj: Any, expected: int) -> bytes | None:
    """Pixels through pypdf's other filters, whose own output is capped by pypdf; a result
    larger than the image declares is refused."""
    pixels = obj.get_data()
    return pixels if len(pixels) <= 2 * expected else None


def _ocr_image(tesseract: str, image: bytes) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - fixed binary, no shell
            [tesseract, "stdin", "stdout", "-l", "fra+eng"],
            input=image,
            capture_output=True,
            timeout=_OCR_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if completed.returncode != 0:
        # French data may be missing: retry with Tesseract's default language.
        completed = subprocess.run(  # noqa: S603
            [tesseract, "stdin", "stdout"],
            input=image,
            capture_output=True,
            timeout=_OCR_TIMEOUT_S,
            check=False,
        )
    return completed.stdout.decode("utf-8", "replace") if completed.returncode == 0 else ""
