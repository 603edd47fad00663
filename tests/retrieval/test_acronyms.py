"""Acronyms the documents define: found by the Schwartz–Hearst rule, and searched for
spelled out, on the real index (embedded Chroma, SQLite catalog, real embedder)."""

from __future__ import annotations

from retrieval.acronyms import Acronyms, definitions
from retrieval.index import SearchIndex
from retrieval.types import Chunk


def test_definitions_are_the_words_before_the_parenthesis_that_spell_the_acronym() -> None:
    text = (
        "Le pacte civil de solidarité (PACS) est enregistré en mairie. Un "
        "Délégué à la protection des données (DPO) est désigné. La demande se fait sur le "
        "site de l'Agence nationale des titres sécurisés (ANTS). Pour l'allocation aux "
        "adultes handicapés (AAH), voir la fiche (Copie). Les horaires (voir ci-dessous) "
        "changent."
    )
    assert list(definitions(text)) == [
        ("pacs", "pacte civil de solidarité"),
        ("dpo", "délégué à la protection des données"),
        ("ants", "agence nationale des titres sécurisés"),
        ("aah", "allocation aux adultes handicapés"),  # not « aux adultes handicapés »
    ]
    assert list(definitions("Un mot sans rapport (CAF).")) == []  # letters not found in order


def test_only_acronyms_of_the_question_are_spelled_out() -> None:
    table = {
        "dpo": "délégué à la protection des données",
        "pas": "prélèvement à la source",
        "ce": "conseil état",
    }
    spelled = "délégué à la protection des données"
    assert Acronyms.spelled_out("Que risque un DPO ?", table) == spelled
    assert Acronyms.spelled_out("que risque un dpo, le délégué ?", table) == spelled
    assert Acronyms.spelled_out("un délégué à la protection des données, DPO", table) == ""
    # Everyday words that are also acronyms stay words unless written in capitals.
    assert Acronyms.spelled_out("Je ne sais pas si ce formulaire suffit", table) == ""
    assert Acronyms.spelled_out("Le PAS et le CE", table) == (
        "prélèvement à la source conseil état"
    )


def _chunk(document_id: str, title: str, text: str) -> list[Chunk]:
    return [Chunk(f"{document_id}@v1#0", document_id, 1, 0, title, "", None, text)]


def test_a_question_with_an_acronym_finds_the_page_that_spells_it_out(
    index: SearchIndex,
) -> None:
    """The page about the delegate's liability never writes « DPO »: its words are found
    through the definition another page gives, and lose it when that page goes."""
    index.replace_document(
        corpus="c",
        document_id="designation",
        version=1,
        chunks=_chunk(
            "designation",
            "Désignation",
            "Tout organisme public désigne un délégué à la protection des données (DPO).",
        ),
    )
    index.replace_document(
        corpus="c",
        document_id="responsabilite",
        version=1,
        chunks=_chunk(
            "responsabilite",
            "Responsabilité",
            "Le délégué à la protection des données n'est pas personnellement responsable "
            "des manquements de l'organisme.",
        ),
    )
    index.replace_document(
        corpus="c",
        document_id="cantine",
        version=1,
        chunks=_chunk("cantine", "Cantine", "Le tarif du repas dépend du quotient familial."),
    )

    def lexical_rank(document_id: str) -> int | None:
        passages = index.search(corpus="c", query="Que risque un DPO ?", k=3)
        return next((p.lexical_rank for p in passages if p.chunk.document_id == document_id), None)

    assert lexical_rank("responsabilite") is not None
    index.delete_document(corpus="c", document_id="designation")
    assert lexical_rank("responsabilite") is None  # no page defines « DPO » any more


def test_the_table_follows_new_versions_and_ties_go_alphabetically(index: SearchIndex) -> None:
    """Every process must expand alike: a tie between two definitions is broken by the
    alphabet, not by the order documents were read; a new version's definition counts."""
    acronyms = Acronyms(index.catalog)

    def table() -> dict[str, str]:
        lexical = index.lexical_index("c")
        return acronyms.table("c", lexical.generation, lexical.active)

    for document_id, text in (
        ("sante", "L'agence régionale de santé (ARS) contrôle les établissements."),
        ("radio", "L'autorité de régulation des signaux (ARS) attribue les fréquences."),
    ):
        index.replace_document(
            corpus="c", document_id=document_id, version=1, chunks=_chunk(document_id, "", text)
        )
    assert table() == {"ars": "agence régionale de santé"}
    text = (
        "L'autorité de régulation des signaux (ARS), dite aussi autorité de régulation "
        "des signaux (ARS)."
    )
    index.replace_document(
        corpus="c",
        document_id="radio",
        version=2,
        chunks=[Chunk("radio@v2#0", "radio", 2, 0, "", "", None, text)],
    )
    assert table() == {"ars": "autorité de régulation des signaux"}
