"""Structure-aware chunking: sizes, overlap, metadata and stable ids."""

from __future__ import annotations

from retrieval.chunking import chunk_document, chunk_id, indexed_text
from retrieval.types import ParsedDocument, Section


def _doc() -> ParsedDocument:
    long_paragraph = " ".join(f"Phrase numéro {i} sur les pièces à fournir." for i in range(60))
    return ParsedDocument(
        title="Carte d'identité",
        sections=[
            Section((), "Introduction courte.", page=1),
            Section(("Pièces à fournir",), long_paragraph, page=2),
            Section(("Pièces à fournir", "Cas particuliers"), "Mineurs.\n\nMajeurs protégés.", 3),
        ],
        format="pdf",
    )


def test_chunks_never_straddle_sections_and_keep_metadata() -> None:
    chunks = chunk_document(_doc(), document_id="doc-1", version=3, max_chars=400, overlap=80)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[0].text == "Introduction courte."
    assert (chunks[0].section, chunks[0].page) == ("", 1)
    middle = [c for c in chunks if c.section == "Pièces à fournir"]
    assert len(middle) >= 5 and all(c.page == 2 for c in middle)
    assert all(len(c.text) <= 400 for c in chunks)
    last = chunks[-1]
    assert last.section == "Pièces à fournir > Cas particuliers"
    assert last.text == "Mineurs.\n\nMajeurs protégés."
    assert {c.title for c in chunks} == {"Carte d'identité"}
    assert all(c.document_id == "doc-1" and c.version == 3 for c in chunks)


def test_consecutive_chunks_of_a_section_overlap_by_whole_sentences() -> None:
    chunks = chunk_document(_doc(), document_id="d", version=1, max_chars=400, overlap=80)
    middle = [c for c in chunks if c.section == "Pièces à fournir"]
    for previous, following in zip(middle, middle[1:], strict=False):
        last_sentence = previous.text.rsplit(". ", 1)[-1]
        assert following.text.startswith(last_sentence.split(" sur ")[0])
    no_overlap = chunk_document(_doc(), document_id="d", version=1, max_chars=400, overlap=0)
    joined = " ".join(c.text for c in no_overlap if c.section == "Pièces à fournir")
    assert joined == _doc().sections[1].text


def test_ids_are_stable_and_carry_the_version() -> None:
    first = chunk_document(_doc(), document_id="doc-1", version=2)
    again = chunk_document(_doc(), document_id="doc-1", version=2)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].chunk_id == chunk_id("doc-1", 2, 0) == "doc-1@v2#0"
    next_version = chunk_document(_doc(), document_id="doc-1", version=3)
    assert not {c.chunk_id for c in first} & {c.chunk_id for c in next_version}


def test_over_long_sentences_are_cut_at_spaces() -> None:
    words = " ".join(["mot"] * 500)
    doc = ParsedDocument("T", [Section((), words)], "text")
    chunks = chunk_document(doc, document_id="d", version=1, max_chars=200, overlap=0)
    assert all(len(c.text) <= 200 for c in chunks)
    assert " ".join(c.text for c in chunks) == words


def test_an_over_long_paragraph_is_cut_at_its_lines_which_stay_lines() -> None:
    # A plain-text page: headings and list items are lines of one paragraph.
    lines = ["Où trouver le texte ?", "Sur le site de la CNIL ;", "Sur le site de l'Union."]
    lines += [f"Ligne {i} : le délai de traitement est d'un mois." for i in range(30)]
    doc = ParsedDocument("T", [Section((), "\n".join(lines))], "text")
    chunks = chunk_document(doc, document_id="d", version=1, max_chars=300, overlap=60)
    assert chunks[0].text.startswith("\n".join(lines[:4]))
    for chunk in chunks:
        assert len(chunk.text) <= 300
        # Each passage opens on a whole line or a whole sentence, never after a colon.
        assert all(line in lines or line.endswith(".") for line in chunk.text.split("\n"))
    no_overlap = chunk_document(doc, document_id="d", version=1, max_chars=300, overlap=0)
    assert "\n".join(c.text for c in no_overlap) == "\n".join(lines)


def test_indexed_text_prepends_title_and_section() -> None:
    chunk = chunk_document(_doc(), document_id="d", version=1)[-1]
    assert indexed_text(chunk) == (
        "Carte d'identité — Pièces à fournir > Cas particuliers\nMineurs.\n\nMajeurs protégés."
    )
