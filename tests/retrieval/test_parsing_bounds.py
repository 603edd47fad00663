"""Hardening (#16, item 4): every parser does bounded work. Inflation stops at what an image
declares, an Office part of tens of MB of XML is refused before it is parsed, a document is
read in a child process stopped at a time limit, and its text and passages are capped."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib

import pytest

from retrieval.parsing import ParseError, parse_document
from retrieval.parsing.isolated import ParseLimits, parse_isolated
from retrieval.parsing.office import MAX_XML_BYTES
from retrieval.parsing.pdf import _page_images
from tests.retrieval.files import assemble_pdf

MAX = 50 * 1024 * 1024


def make_pdf(content: bytes, *, extra: list[bytes] | None = None, xobject: bool = False) -> bytes:
    """A one-page PDF with a compressed content stream (and an image as object 5)."""
    stream = zlib.compress(content, 9)
    resources = b"/XObject << /Im1 5 0 R >>" if xobject else b"/Font << /F1 5 0 R >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << " + resources + b" >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        *(extra or [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]),
    ]
    return assemble_pdf(objects)


def test_pdf_image_inflates_no_more_than_it_declares() -> None:
    # 300 MB of zeros in about 300 kB, declared as a 100 x 100 grey image.
    deflate = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    bomb = b"".join(deflate.compress(block) for _ in range(300)) + deflate.flush()
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 100 /Height 100 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(bomb)
        + bomb
        + b"\nendstream"
    )
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(make_pdf(b"", extra=[image], xobject=True))).pages[0]
    tracemalloc.start()
    try:
        images = _page_images(page)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(images) == 1 and images[0].endswith(b"\x00" * 10_000)
    assert len(images[0]) == len(b"P5\n100 100\n255\n") + 100 * 100
    assert peak < 20 * 1024 * 1024  # the 300 MB were never in memory


def test_office_part_of_tens_of_mb_of_xml_is_refused() -> None:
    # Stored, not compressed: the archive's ratio is 1, far under the zip-bomb guard's.
    paragraph = b"<w:p><w:r><w:t>Pieces a fournir</w:t></w:r></w:p>"
    xml = b"<w:document><w:body>" + paragraph * (MAX_XML_BYTES // len(paragraph) + 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", xml + b"</w:body></w:document>")
    with pytest.raises(ParseError) as caught:
        parse_document(buffer.getvalue(), filename="enorme.docx", max_bytes=MAX)
    assert caught.value.code == "archive_too_large"


def test_document_past_the_character_cap_is_refused() -> None:
    text = ("Pièces à fournir pour la carte d'identité. " * 100).encode()
    assert parse_document(text, filename="a.txt", max_bytes=MAX, max_chars=10_000)
    with pytest.raises(ParseError) as caught:
        parse_document(text, filename="a.txt", max_bytes=MAX, max_chars=1_000)
    assert caught.value.code == "too_much_text"


def test_parsing_past_the_time_limit_is_stopped_in_its_child_process() -> None:
    # 22 kB of PDF whose text extraction takes the better part of a minute on 2 cores.
    slow = make_pdf(b"BT /F1 12 Tf 10 10 Td (Bonjour) Tj ET\n" * 200_000)
    limits = ParseLimits(max_bytes=MAX, timeout_s=2)
    with pytest.raises(ParseError) as caught:
        parse_isolated(slow, filename="lent.pdf", limits=limits)
    assert caught.value.code == "timeout" and caught.value.filename == "lent.pdf"
    # The next document is read as usual, by a new child.
    parsed = parse_isolated(b"# Cantine\n\nLe repas.", filename="cantine.md", limits=limits)
    assert parsed.title == "Cantine"
