"""Plain data objects exchanged between retrieval and the rest of the app."""

from __future__ import annotations

from dataclasses import dataclass

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (``("Pièces à fournir", "Cas particuliers")``)."""

    heading_path: tuple[str, ...]
    text: str
    page: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """A document reduced to its title and ordered sections, whatever its original format."""

    title: str
    sections: list[Section]
    format: str  # "pdf", "docx", "odt", "html", "markdown", "text"


@dataclass(frozen=True)
class Chunk:
    """A passage of one version of one document, as indexed and as shown to users.

    ``text`` is the passage itself; the title and section are kept apart so that the
    indexes can use them as separate signals and the UI can show them as context.
    """

    chunk_id: str
    document_id: str
    version: int
    ordinal: int
    title: str
    section: str
    page: int | None
    text: str


@dataclass(frozen=True)
class Passage:
    """A chunk returned by a search, with the signals that ranked it.

    ``score`` is the fused score in [0, 1] (higher is better); the component scores and
    ranks are kept so that callers (review policy, debugging) can judge how well
    supported a passage is. Ranks are 1-based; ``None`` means the retriever did not
    return the chunk among its candidates.
    """

    chunk: Chunk
    score: float
    lexical_score: float | None
    dense_score: float | None
    lexical_rank: int | None = None
    dense_rank: int | None = None
    title_score: float | None = None
    rerank_score: float | None = None
