"""Each format parsed from a small file made on the fly, and each refusal code."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest

from retrieval.parsing import ParseError, detect_format, parse_document
from tests.retrieval.files import make_scanned_pdf, make_text_pdf, make_zip

MAX = 5 * 1024 * 1024


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Guide de la carte d'identité", 0)
    document.add_paragraph("Ce guide explique la démarche en mairie.")
    document.add_heading("Pièces à fournir", 1)
    document.add_paragraph("Une photo d'identité récente et un justificatif de domicile.")
    document.add_heading("Cas particuliers", 2)
    document.add_paragraph("Pour un mineur, la présence d'un parent est obligatoire.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Pièce"
    table.cell(0, 1).text = "Délai"
    table.cell(1, 0).text = "Passeport"
    table.cell(1, 1).text = "3 semaines"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _odt() -> bytes:
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Règlement de la cantine"))
    document.text.addElement(H(outlinelevel=1, text="Inscription"))
    document.text.addElement(P(text="L'inscription se fait en ligne avant la rentrée."))
    document.text.addElement(H(outlinelevel=2, text="Tarifs"))
    document.text.addElement(P(text="Le tarif dépend du quotient familial."))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def test_markdown_headings_become_section_paths() -> None:
    data = (
        "# Carte grise\n\nIntro sur la démarche.\n\n## Pièces à fournir\n\nUn justificatif.\n\n"
        "### Cas particuliers\n\nVéhicule de collection.\n\n```\n# pas un titre\n```\n"
    ).encode()
    doc = parse_document(data, filename="guide.md", max_bytes=MAX)
    assert doc.format == "markdown"
    assert doc.title == "Carte grise"
    paths = [s.heading_path for s in doc.sections]
    assert paths == [(), ("Pièces à fournir",), ("Pièces à fournir", "Cas particuliers")]
    assert "# pas un titre" in doc.sections[-1].text


def test_html_drops_scripts_and_navigation() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>Allocations</title><style>p{}</style></head><body>"
        "<nav>Accueil | Menu</nav><h1>Allocations</h1><p>Les <b>allocations</b> familiales.</p>"
        "<h2>Montants</h2><ul><li>Deux enfants : 141 €</li><li>Trois enfants</li></ul>"
        "<script>alert('x')</script></body></html>"
    ).encode()
    doc = parse_document(html, filename="page", max_bytes=MAX)
    assert doc.format == "html"
    assert doc.title == "Allocations"
    text = "\n".join(s.text for s in doc.sections)
    assert "Les allocations familiales." in text
    assert "alert" not in text and "Menu" not in text
    assert doc.sections[-1].heading_path == ("Montants",)
    assert "Deux enfants : 141 €" in doc.sections[-1].text


def test_plain_text_utf8_and_cp1252_fallback() -> None:
    doc = parse_document(
        "Horaires\n\nLa mairie ouvre à 9 h.".encode(), filename="a.txt", max_bytes=MAX
    )
    assert (doc.format, doc.title) == ("text", "Horaires")
    assert doc.sections[0].text == "La mairie ouvre à 9 h."
    legacy = parse_document(
        "Délai : une semaine.".encode("cp1252"), filename="b.txt", max_bytes=MAX
    )
    assert legacy.sections[0].text == "Délai : une semaine."


def test_docx_headings_tables_and_title() -> None:
    doc = parse_document(_docx(), filename="guide.docx", max_bytes=MAX)
    assert doc.format == "docx"
    assert doc.title == "Guide de la carte d'identité"
    by_path = {s.heading_path: s.text for s in doc.sections}
    assert by_path[()] == "Ce guide explique la démarche en mairie."
    assert "justificatif de domicile" in by_path[("Pièces à fournir",)]
    particular = by_path[("Pièces à fournir", "Cas particuliers")]
    assert "présence d'un parent" in particular
    assert "Passeport | 3 semaines" in particular


def test_odt_outline_levels_and_meta_title() -> None:
    doc = parse_document(_odt(), filename="cantine.odt", max_bytes=MAX)
    assert doc.format == "odt"
    assert doc.title == "Règlement de la cantine"
    assert [s.heading_path for s in doc.sections] == [("Inscription",), ("Inscription", "Tarifs")]
    assert doc.sections[1].text == "Le tarif dépend du quotient familial."


def test_pdf_keeps_page_numbers() -> None:
    data = make_text_pdf(
        [
            ["Aide au logement", "Conditions de ressources."],
            ["Le versement est mensuel.", "Délai de traitement : deux mois."],
        ]
    )
    doc = parse_document(data, filename="apl.pdf", max_bytes=MAX)
    assert doc.format == "pdf"
    assert doc.title == "Aide au logement"
    assert [s.page for s in doc.sections] == [1, 2]
    assert "Délai de traitement" in doc.sections[1].text


def test_format_is_detected_by_content_not_extension() -> None:
    assert detect_format(_docx(), filename="renamed.txt") == "docx"
    assert detect_format(_odt(), filename="renamed.pdf") == "odt"
    assert detect_format(b"<html><body><p>x</p></body></html>", filename="x.txt") == "html"


def test_scanned_pdf_is_ocred_or_refused() -> None:
    if shutil.which("tesseract") is None:
        with pytest.raises(ParseError) as caught:
            parse_document(make_scanned_pdf("MAIRIE"), filename="scan.pdf", max_bytes=MAX)
        assert caught.value.code == "no_text_layer"
        return
    doc = parse_document(make_scanned_pdf("MAIRIE"), filename="scan.pdf", max_bytes=MAX)
    assert "MAIRIE" in doc.sections[0].text
    assert doc.sections[0].page == 1


def test_scanned_pdf_with_nothing_readable() -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(make_scanned_pdf(), filename="scan.pdf", max_bytes=MAX)
    assert caught.value.code == "no_text_layer"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog \x00\x01 garbage", "broken.pdf"),
        (b"PK\x03\x04" + b"\x00" * 60, "broken.docx"),
    ],
)
def test_corrupt_files(data: bytes, filename: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(data, filename=filename, max_bytes=MAX)
    assert caught.value.code == "corrupt"
    assert caught.value.filename == filename


def test_docx_with_broken_xml_is_corrupt() -> None:
    data = make_zip({"[Content_Types].xml": b"<nope", "word/document.xml": b"<w:document"})
    with pytest.raises(ParseError) as caught:
        parse_document(data, filename="bad.docx", max_bytes=MAX)
    assert caught.value.code == "corrupt"


def test_too_large() -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(b"x" * 101, filename="big.txt", max_bytes=100)
    assert caught.value.code == "too_large"


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_zip_bomb_is_refused(kind: str) -> None:
    payload = b"\x00" * (20 * 1024 * 1024)  # compresses about 1000:1
    if kind == "docx":
        data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": payload})
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
            archive.writestr("content.xml", payload, compress_type=zipfile.ZIP_DEFLATED)
        data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    with pytest.raises(ParseError) as caught:
        parse_document(data, filename=f"bomb.{kind}", max_bytes=MAX)
    assert caught.value.code == "archive_too_large"


def test_encrypted_pdf() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ParseError) as caught:
        parse_document(buffer.getvalue(), filename="locked.pdf", max_bytes=MAX)
    assert caught.value.code == "encrypted"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50,
        make_zip({"hello.txt": b"hi"}),
    ],
)
def test_unsupported_formats(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(data, filename="file.doc", max_bytes=MAX)
    assert caught.value.code == "unsupported_format"


def test_empty_documents() -> None:
    for data in (b"", b"   \n\n", b"<html><body><script>x()</script></body></html>"):
        with pytest.raises(ParseError) as caught:
            parse_document(data, filename="empty.html", max_bytes=MAX)
        assert caught.value.code == "empty"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("x.pdf", bytes(range(256)) * 8),  # a PDF whose start was lost
        ("x.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8),  # a PDF cut and garbled
        ("x.docx", b"garbled\x00\x01 bytes of a damaged document"),
        ("x.odt", b"texte qui n'est pas un ODT"),
    ],
    ids=["pdf-without-header", "pdf-garbled", "docx-garbled", "odt-as-text"],
)
def test_damaged_files_are_corrupt_not_unsupported(filename: str, data: bytes) -> None:
    """A file named as a format Guichet reads that cannot be read is « damaged », which
    tells the person to check the file, not to convert it."""
    with pytest.raises(ParseError) as caught:
        parse_document(data, filename=filename, max_bytes=MAX)
    assert caught.value.code == "corrupt"
