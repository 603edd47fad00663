"""Citizens' typing shortcuts written out before their question is searched."""

from __future__ import annotations

import pytest

from retrieval.spelling import written_out


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        # Accents left out, where one accented word is far the most frequent.
        (
            "on a besoin de combien de temoins pour se marier ?",
            "on a besoin de combien de témoins pour se marier ?",
        ),
        ("la salle des fetes", "la salle des fêtes"),
        ("ma carte d'identite", "ma carte d'identité"),
        # Apostrophes left out, before a word long enough to be sure of.
        ("jai paumé ma carte didentité", "j'ai paumé ma carte d'identité"),
        ("qu'est ce que lassurance", "qu'est ce que l'assurance"),
        # Texting forms.
        ("c combien la cantine ?", "c'est combien la cantine ?"),
        ("la decheterie c ouvert le mardi ?", "la decheterie c'est ouvert le mardi ?"),
        ("cest quoi les papiers pour le pacs", "c'est quoi les papiers pour le pacs"),
        ("le fruit il vient de koi", "le fruit il vient de quoi"),
        ("mon bebe jusqua quand", "mon bébé jusqu'à quand"),
        (
            "ya un pb avec mon rdv pr la cni, kan je peux venir ?",
            "il y a un problème avec mon rendez-vous pour la cni, quand je peux venir ?",
        ),
        ("il ya un probleme", "il y a un problème"),
        # One letter left out, added, changed or swapped, in a long enough word.
        ("g oublié le recensemen a 16 ans", "g oublié le recensement a 16 ans"),
        ("combien de m2 fait mon apartement", "combien de m2 fait mon appartement"),
        # The phone's capital on the first word.
        ("Jai perdu ma carte didentité", "J'ai perdu ma carte d'identité"),
        ("C combien ?", "C'est combien ?"),
        ("Lecole ouvre quand ?", "L'école ouvre quand ?"),
    ],
)
def test_typing_shortcuts_are_written_out(typed: str, written: str) -> None:
    assert written_out(typed) == written


@pytest.mark.parametrize(
    "kept",
    [
        # Well-written questions come back as they were.
        "Combien coûte la salle du Lavoir à Val-d'Orme ?",
        "Quel est le délai d'instruction d'un permis de construire pour une maison ?",
        # Words as they stand: « ne », « a », « ou » are words; « dait » is not sure enough.
        "mon bébé est ne mardi, il a 3 jours ou pas ?",
        "que dait il",
        # Two accented words could be meant (« élève », « élevé »): no guess.
        "mon fils est eleve en cm2",
        # Forms of French words the list does not hold are no elisions.
        "les déchéances de nationalité",
        "les légalisations de signature",
        # Names and acronyms are never given accents (« Âcre » is a word, the ACRE an aid).
        "Acre : exonération partielle de charges sociales",
        "Quand a eu lieu le retour des Etats-Unis ?",
        # A rare word is no better guess than the word typed.
        "Puis-je m'opposer à la publicité par email ?",
        # Letters that are no texting: a card, a category, a vitamin, a class test.
        "je peux payer par cb a la mairie ?",
        "concours de catégorie c dans la fonction publique",
        "la vitamine c est-elle utile ?",
        "le prochain ds de maths",
        # Words typed without accents that could take several: no guess at all, not even
        # a word one letter away (« prime », « graves »).
        "mon passeport est perime",
        "les greves de la sncf",
        # Names typed in lower case are too short to correct; « œ » as phones type it.
        "la mairie de toulon ou de cholet",
        "les œuvres de la bibliothèque",
        # Web and e-mail addresses.
        "me connecter sur impots.gouv.fr ou declare.ameli.fr",
        "mon adresse est prenom.nom@exemple.fr",
    ],
)
def test_what_is_written_is_kept(kept: str) -> None:
    assert written_out(kept) == kept


def test_the_corpus_words_are_never_taken_for_shortcuts() -> None:
    """« lorient » reads as « l'orient » to the word list, « baronnie » as a « baronne »
    mistyped; a corpus about Lorient, or about Norman lords, says otherwise."""
    assert written_out("la mairie de lorient") == "la mairie de l'orient"
    assert written_out("la mairie de lorient", known={"lorient"}.__contains__) == (
        "la mairie de lorient"
    )
    assert written_out("la baronnie") == "la baronne"
    assert written_out("la baronnie", known={"baronnie"}.__contains__) == "la baronnie"


def test_the_corpus_spelling_wins_over_the_word_list() -> None:
    """« déchetterie » is in neither the word list nor the documents, which write
    « déchèterie » (``SearchIndex.corpus_spelling`` finds it)."""
    corpus = {"déchetterie": "déchèterie", "dechetterie": "déchèterie"}.get
    assert written_out("la dechetterie c ouvert ?", corpus_spelling=corpus) == (
        "la déchèterie c'est ouvert ?"
    )
    assert written_out("la déchetterie", corpus_spelling=corpus) == "la déchèterie"
