"""A handful of small French administrative documents for the index tests."""

from __future__ import annotations

from retrieval.chunking import chunk_document
from retrieval.types import Chunk, ParsedDocument, Section

DOCUMENTS: dict[str, tuple[str, list[Section]]] = {
    "passeport": (
        "Demander un passeport",
        [
            Section((), "Le passeport se demande en mairie, sur rendez-vous."),
            Section(("Coût",), "Le timbre fiscal du passeport coûte 86 euros pour un adulte."),
        ],
    ),
    "cantine": (
        "Inscription à la cantine scolaire",
        [Section((), "Les tarifs de la cantine dépendent du quotient familial de la CAF.")],
    ),
    "impots": (
        "Déclarer ses revenus",
        [Section((), "La déclaration des revenus se fait en ligne au printemps, avant fin mai.")],
    ),
    "permis": (
        "Permis de conduire perdu",
        [
            Section(
                (),
                "En cas de perte du permis de conduire, faites une déclaration sur le site "
                "de l'ANTS puis demandez un nouveau titre.",
            )
        ],
    ),
}


def chunks_of(document_id: str, version: int = 1, *, text_suffix: str = "") -> list[Chunk]:
    title, sections = DOCUMENTS[document_id]
    if text_suffix:
        sections = [Section(s.heading_path, s.text + text_suffix, s.page) for s in sections]
    parsed = ParsedDocument(title=title, sections=sections, format="text")
    return chunk_document(parsed, document_id=document_id, version=version)


def many_chunks(document_id: str, version: int, count: int) -> list[Chunk]:
    """A long document of ``count`` distinct one-paragraph chunks."""
    sections = [
        Section(
            (f"Partie {i}",), f"Paragraphe {i} de la version {version}: règle numéro {i} du guide."
        )
        for i in range(count)
    ]
    parsed = ParsedDocument(title="Guide long", sections=sections, format="text")
    return chunk_document(parsed, document_id=document_id, version=version)
