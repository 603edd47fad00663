"""Structure-aware chunking: passages never straddle two sections.

Each section is cut at paragraph boundaries into passages of at most ``max_chars``;
paragraphs too long for one passage are cut at sentence ends, and sentences too long at
spaces. Consecutive passages of one section share up to ``overlap`` characters of whole
sentences, so that an answer sitting on a boundary is still found whole in one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from retrieval.types import SECTION_SEPARATOR, Chunk, ParsedDocument

DEFAULT_MAX_CHARS = 1000
DEFAULT_OVERLAP = 100

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+(?=\S)")


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
    pieces = list(_pieces(text, max_chars))
    current: list[str] = []
    size = 0
    for piece in pieces:
        added = len(piece) + (2 if current else 0)
        if current and size + added > max_chars:
            yield "\n\n".join(current)
            current = _tail(current, overlap, max_chars - len(piece) - 2)
            size = sum(len(p) for p in current) + 2 * max(len(current) - 1, 0)
            added = len(piece) + (2 if current else 0)
        current.append(piece)
        size += added
    if current:
        yield "\n\n".join(current)


def _pieces(text: str, max_chars: int) -> Iterator[str]:
    """Paragraphs, with over-long ones cut into sentence groups, then at spaces."""
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            yield paragraph
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            if len(sentence) <= max_chars:
                yield sentence
            else:
                yield from _hard_split(sentence, max_chars)


def _hard_split(text: str, max_chars: int) -> Iterator[str]:
    while len(text) > max_chars:
        cut = text.rfind(" ", max_chars // 2, max_chars)
        cut = cut if cut > 0 else max_chars
        yield text[:cut].strip()
        text = text[cut:].strip()
    if text:
        yield text


def _tail(pieces: list[str], overlap: int, room: int) -> list[str]:
    """The last whole sentences of ``pieces`` fitting in ``overlap`` characters (and room)."""
    budget = min(overlap, room)
    if budget <= 0:
        return []
    sentences = [s for p in pieces for s in _SENTENCE_END.split(p)]
    kept: list[str] = []
    used = 0
    for sentence in reversed(sentences):
        if used + len(sentence) + 1 > budget:
            break
        kept.insert(0, sentence)
        used += len(sentence) + 1
    return [" ".join(kept)] if kept else []
