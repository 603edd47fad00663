"""Citizens' typing shortcuts written out before their question is searched."""

from __future__ import annotations

import pytest

from retrieval.spelling import restore


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        # Accents left out, where French has one way to write the word.
        (
            "on a besoin de combien de temoins pour se marier ?",
            "on a besoin de combien de témoins pour se marier ?",
        ),
        ("la salle des fetes", "la salle des fêtes"),
        # Apostrophes left out, before a word long enough to be sure of.
        (
            "jai paumé ma carte didentité ca coute combien",
            "j'ai paumé ma carte d'identité ça coûte combien",
        ),
        ("qu'est ce que lassurance", "qu'est ce que l'assurance"),
        # Texting forms.
        ("c combien la cantine ?", "c'est combien la cantine ?"),
        ("cest quoi les papiers pour le pacs", "c'est quoi les papiers pour le pacs"),
        ("le fruit il vient de koi", "le fruit il vient de quoi"),
        ("mon bebe jusqua quand", "mon bébé jusqu'à quand"),
        (
            "ya un pb avec mon rdv pr la cni, kan je peux venir ?",
            "il y a un problème avec mon rendez-vous pour la cni, quand je peux venir ?",
        ),
    ],
)
def test_typing_shortcuts_are_written_out(typed: str, written: str) -> None:
    assert restore(typed) == written


@pytest.mark.parametrize(
    "kept",
    [
        # Well-written questions come back as they were.
        "Combien coûte la salle du Lavoir à Val-d'Orme ?",
        "Quel est le délai d'instruction d'un permis de construire pour une maison ?",
        # Words as they stand: « ne », « a », « ou » are words; « dait » is not sure enough.
        "mon bébé est ne mardi, il a 3 jours ou pas ?",
        "que dait il",
        # Names and acronyms are never touched (« Âcre » is a word, the ACRE an aid).
        "Acre : exonération partielle de charges sociales",
        "Quand a eu lieu le retour des Etats-Unis ?",
        # A rare word is no better guess than the word typed.
        "Puis-je m'opposer à la publicité par email ?",
        # « c » of a vitamin, before « est ».
        "la vitamine c est-elle utile ?",
        # Masked personal data, figures and units.
        "[nom masqué] a 16 ans, 12m2",
    ],
)
def test_what_is_written_is_kept(kept: str) -> None:
    assert restore(kept) == kept
