"""Structure-aware chunking: passages never straddle two sections.

Each section is cut at paragraph boundaries into passages of at most ``max_chars``;
paragraphs too long for one passage are cut at line breaks, lines too long at sentence ends
(and colons), sentences too long at spaces. Consecutive passages of one section share up to
``overlap`` characters of whole sentences, so that an answer sitting on a boundary is still
found whole in one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from retrieval.types import SECTION_SEPARATOR, Chunk, ParsedDocument

DEFAULT_MAX_CHARS = 1000
DEFAULT_OVERLAP = 100

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+(?=\S)")
# The overlap repeats whole sentences only: a piece cut after a colon (« …sur le site de la
# CNIL : » / « Règlement européen : ce qui change ») would open the next passage as if it
# were one.
_FULL_STOP = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def chunk_id(document_id: str, version: int, ordinal: int) -> str:
    """Stable id of a chunk: the same document, version and position give the same id."""
    return f"{document_id}@v{version}#{ordinal}"


def chunk_document(
    doc: ParsedDocument,
    *,
    document_id: str,
    version: int,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
) -> list[Chunk]:
    """Cut a parsed document into ordered chunks carrying title, section path and page."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    overlap = max(0, min(overlap, max_chars // 2))
    chunks: list[Chunk] = []
    for section in doc.sections:
        path = SECTION_SEPARATOR.join(section.heading_path)
        for text in _split_section(section.text, max_chars, overlap):
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(document_id, version, ordinal),
                    document_id=document_id,
                    version=version,
                    ordinal=ordinal,
                    title=doc.title,
                    section=path,
                    page=section.page,
                    text=text,
                )
            )
    return chunks


def indexed_text(chunk: Chunk) -> str:
    """What the dense index embeds: title and section give context the passage may lack."""
    head = " — ".join(part for part in (chunk.title, chunk.section) if part)
    return f"{head}\n{chunk.text}" if head else chunk.text


def _split_section(text: str, max_chars: int, overlap: int) -> Iterator[str]:
    current: list[tuple[str, str]] = []
    for piece in _pieces(text, max_chars):
        if current and len(_join(current + [piece])) > max_chars:
            yield _join(current)
            current = _tail(current, overlap, max_chars - len(piece[0]) - 2)
        current.append(piece)
    if current:
        yield _join(current)


def _join(pieces: list[tuple[str, str]]) -> str:
    """Pieces joined by what separated them in the section: a blank line, a line break or
    a space."""
    out = ""
    for text, separator in pieces:
        out = text if not out else out + separator + text
    return out


def _pieces(text: str, max_chars: int) -> Iterator[tuple[str, str]]:
    """(text, separator before it): paragraphs; over-long ones cut into their lines, lines
    too long into sentences, then at spaces. Lines stay lines: a plain-text page's headings
    and list items are lines of one paragraph, and glued into running text they would be
    read as one sentence (« Sur le site de la CNIL ; Sur le site de l'Union européenne. »)."""
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            yield paragraph, "\n\n"
            continue
        separator = "\n\n"
        for line in paragraph.split("\n"):
            line = line.strip()
            if not line:
                continue
            if len(line) <= max_chars:
                yield line, separator
                separator = "\n"
                continue
            for sentence in _SENTENCE_END.split(line):
                parts = (
                    [sentence]
                    if len(sentence) <= max_chars
                    else list(_hard_split(sentence, max_chars))
                )
                for part in parts:
                    yield part, separator
                    separator = " "
            separator = "\n"


def _hard_split(text: str, max_chars: int) -> Iterator[str]:
    while len(text) > max_chars:
        cut = text.rfind(" ", max_chars // 2, max_chars)
        cut = cut if cut > 0 else max_chars
        yield text[:cut].strip()
        text = text[cut:].strip()
    if text:
        yield text


def _tail(pieces: list[tuple[str, str]], overlap: int, room: int) -> list[tuple[str, str]]:
    """The last whole sentences of ``pieces`` fitting in ``overlap`` characters (and room),
    with the separators they had."""
    budget = min(overlap, room)
    if budget <= 0:
        return []
    sentences = [
        (sentence, separator if i == 0 else " ")
        for text, separator in pieces
        for i, sentence in enumerate(_FULL_STOP.split(text))
    ]
    kept: list[tuple[str, str]] = []
    used = 0
    for sentence, separator in reversed(sentences):
        if used + len(sentence) + 1 > budget:
            break
        kept.insert(0, (sentence, separator))
        used += len(sentence) + 1
    return kept
