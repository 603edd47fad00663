"""Passages cut into quotable units: sentences, list items with their lead-in, table rows."""

from __future__ import annotations

from retrieval.units import UnitKind, plain, split_units

FEES = """Le prix du repas dépend du quotient familial (QF) du foyer :

| Quotient familial | Prix du repas |
|---|---|
| De 801 à 1 100 € | 3,00 € |
| Plus de 1 500 € | 4,30 € |
"""


def test_table_rows_carry_their_headers_and_lead_in() -> None:
    rows = [u for u in split_units(FEES) if u.kind == UnitKind.row]
    assert [r.text for r in rows] == [
        "Quotient familial : De 801 à 1 100 € — Prix du repas : 3,00 €",
        "Quotient familial : Plus de 1 500 € — Prix du repas : 4,30 €",
    ]
    assert rows[0].lead == "Le prix du repas dépend du quotient familial (QF) du foyer :"


def test_list_items_keep_their_lead_in_across_a_blank_line() -> None:
    units = split_units("Une **déclaration préalable** suffit pour :\n\n- un abri de 5 à 20 m² ;\n")
    item = next(u for u in units if u.kind == UnitKind.item)
    assert item.text == "un abri de 5 à 20 m²"
    assert item.lead == "Une déclaration préalable suffit pour :"


def test_the_lead_in_of_a_list_is_the_sentence_that_introduces_it() -> None:
    text = (
        "Prenez rendez-vous en ligne ou au 01 99 00 10 20. Les rendez-vous sont proposés :\n"
        "- du lundi au vendredi de 8 h 30 à 11 h 30 ;\n"
    )
    units = split_units(text)
    item = next(u for u in units if u.kind == UnitKind.item)
    # The sentence before is a unit of its own: an answer quoting both never says it twice.
    assert units[0].text == "Prenez rendez-vous en ligne ou au 01 99 00 10 20."
    assert item.lead == "Les rendez-vous sont proposés :"


def test_sentences_split_but_not_after_abbreviations_or_initials() -> None:
    units = split_units("M. Dupont reçoit le mardi (cf. art. 3). Le dossier est gratuit !")
    assert [u.text for u in units] == [
        "M. Dupont reçoit le mardi (cf. art. 3).",
        "Le dossier est gratuit !",
    ]


def test_questions_headings_and_navigation_are_not_quotable() -> None:
    text = (
        "## Questions pour réviser\n\n1. Quelle partie de la fleur devient le fruit ?\n\n"
        "Logement > Location immobilière > Accéder à un logement social\n\nPièces nécessaires\n"
    )
    kinds = {u.text: u.kind for u in split_units(text)}
    assert kinds["Questions pour réviser"] == UnitKind.heading
    assert kinds["Quelle partie de la fleur devient le fruit ?"] == UnitKind.question
    assert kinds["Pièces nécessaires"] == UnitKind.heading
    assert not any(u.quotable for u in split_units(text))
    # A trail of one step, even ending like a sentence; a comparison is no trail.
    assert split_units("Autre > Comment faire si...\n")[0].kind == UnitKind.navigation
    for comparison in (
        "Un utilitaire avec un PTAC > 3,5 tonnes.",
        "Si A > B, alors C.",
        "On le sait. Si A > B alors A - B est positif",  # not a line of its own
    ):
        assert split_units(comparison)[-1].kind == UnitKind.sentence


def test_the_line_right_after_a_lead_in_is_read_with_it() -> None:
    text = (
        "Vous pouvez contacter son délégué à partir du formulaire suivant:\n"
        "https://exemple.fr/protection-des-donnees/contact/formulaire-de-demande.html\n"
        "Il répond sous un mois.\n"
    )
    units = split_units(text)
    assert units[1].text.startswith("https://exemple.fr/")
    assert units[1].lead == "Vous pouvez contacter son délégué à partir du formulaire suivant:"
    assert units[2].lead == ""  # only the line right after it
    # The lead-in is the line right before, even an item of a list.
    nested = split_units("Pour vous inscrire :\n- Pièces à fournir :\nUne pièce d'identité.\n")
    assert nested[-1].lead == "Pièces à fournir :"
    # « En savoir plus : » introduces links, not the sentence after it.
    assert split_units("En savoir plus :\nLe délai est d'un mois.\n")[-1].lead == ""


def test_further_reading_is_navigation_until_a_sentence() -> None:
    text = (
        "Les employés ont le droit d'y accéder.\nEn savoir plus :\n"
        "RGPD : se préparer en 6 étapes\nLes transferts de données hors de l'Union européenne\n"
        "Pour en savoir plus : Le FCC Fichier en fiche\n"
    )
    kinds = [u.kind for u in split_units(text)]
    assert kinds == [
        UnitKind.sentence,
        UnitKind.lead,
        UnitKind.navigation,
        UnitKind.navigation,
        UnitKind.navigation,
    ]
    # With a link's title on its line, the title-like lines after it are links too.
    inline = split_units(
        "En savoir plus : Le RGPD, c'est maintenant\nSe préparer au Règlement européen\n"
        "Questions Réponses sur le RGPD par la Commission européenne\n"
        "\nLe délai est d'un mois.\n"
    )
    assert [u.kind for u in inline] == [UnitKind.navigation] * 3 + [UnitKind.sentence]
    after = split_units("En savoir plus :\n- Le guide\n\n## Délais\n\nUn mois suffit.\n")
    assert [u.kind for u in after][1:] == [UnitKind.navigation, UnitKind.heading, UnitKind.sentence]


def test_further_reading_never_swallows_what_is_not_a_link() -> None:
    def kinds(text: str) -> list[UnitKind]:
        return [u.kind for u in split_units(text)]

    # A sentence opening with the words, not with the colon and a title.
    assert kinds("Pour en savoir plus, appelez le 39 39.\n") == [UnitKind.sentence]
    # A whole sentence among the links is an item; the links' titles are not.
    assert kinds("Liens utiles :\n- Envoyez le formulaire avant le 31 mars.\n- Le guide\n") == [
        UnitKind.lead,
        UnitKind.item,
        UnitKind.navigation,
    ]
    # A heading introduces links too; a blank line after them ends them.
    assert kinds("## Voir aussi\n\n- Le guide\n\nDélais de traitement\n") == [
        UnitKind.heading,
        UnitKind.navigation,
        UnitKind.heading,
    ]


def test_markdown_inline_syntax_is_removed() -> None:
    assert plain("Un **timbre** de `25 €`, voir [le site](https://ex.fr/a).") == (
        "Un timbre de 25 €, voir le site (https://ex.fr/a)."
    )
