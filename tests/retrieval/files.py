"""Tiny files of each format, built byte by byte for the parsing tests."""

from __future__ import annotations

import io
import zipfile
import zlib


def assemble_pdf(objects: list[bytes]) -> bytes:
    """Assemble a PDF with a correct cross-reference table from numbered object bodies."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def make_text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages show the given lines in Helvetica (WinAnsi: French accents OK)."""
    n = len(pages)
    font_number = 3 + 2 * n
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
    ]
    for i, lines in enumerate(pages):
        ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
        for line in lines:
            escaped = line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(")
            ops.append(b"(" + escaped.replace(b")", b"\\)") + b") Tj T*")
        ops.append(b"ET")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * i, font_number)
        )
        objects.append(_stream(b"\n".join(ops)))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    return assemble_pdf(objects)


# A 5x7 pixel font, enough for the word the OCR test draws.
_GLYPHS = {
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "I": ["11111", "00100", "00100", "00100", "00100", "00100", "11111"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
}


def _render(word: str, scale: int = 12, margin: int = 40) -> tuple[int, int, bytes]:
    """Black capitals on white, as 8-bit grey pixels: (width, height, pixels)."""
    height = 7 * scale + 2 * margin
    width = len(word) * 6 * scale + 2 * margin
    pixels = bytearray(b"\xff" * (width * height))
    for index, letter in enumerate(word):
        for row, bits in enumerate(_GLYPHS[letter]):
            for column, bit in enumerate(bits):
                if bit == "1":
                    x0 = margin + (index * 6 + column) * scale
                    for y in range(margin + row * scale, margin + (row + 1) * scale):
                        pixels[y * width + x0 : y * width + x0 + scale] = b"\x00" * scale
    return width, height, bytes(pixels)


def make_scanned_pdf(word: str | None = None) -> bytes:
    """A one-page PDF that only draws an image (of ``word``, or a grey ramp): no text layer."""
    if word is None:
        width, height, pixels = 64, 64, bytes(range(0, 256, 4)) * 64
    else:
        width, height, pixels = _render(word)
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
            _stream(b"q %d 0 0 %d 50 300 cm /Im1 Do Q" % (width // 2, height // 2)),
            _stream(
                zlib.compress(pixels),
                b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                % (width, height),
            ),
        ]
    )


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
