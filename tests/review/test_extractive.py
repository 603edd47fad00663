"""Extractive answers: whole units of the passages, chosen for what the question asks."""

from __future__ import annotations

import math

from retrieval.analysis import FrenchAnalyzer
from retrieval.units import UnitKind
from review.extractive import Extractor, SourcePassage, asked_kind

ANALYZER = FrenchAnalyzer()
PASSEPORT = SourcePassage(
    1,
    "Passeport : première demande et renouvellement",
    "Coût",
    "Le passeport est payant, y compris en cas de renouvellement :\n\n"
    "| Demandeur | Prix du timbre fiscal |\n|---|---|\n| Majeur | 86 € |\n"
    "| Mineur de 15 à 17 ans | 42 € |\n| Mineur de moins de 15 ans | 17 € |\n",
)
PIECES = SourcePassage(
    2,
    "Mariage et PACS",
    "Le PACS > Pièces à fournir",
    "- La **convention de PACS** ;\n- la **déclaration conjointe** d'enregistrement ;\n"
    "- une **pièce d'identité** de chaque partenaire.\n",
)
LECON = SourcePassage(
    3,
    "La reproduction des plantes à fleurs",
    "De la fleur au fruit",
    "Dans cette leçon, on cherche à comprendre comment une fleur devient un fruit ? "
    "Après la fécondation, l'ovaire grossit et se transforme en fruit.",
)
PASSAGES = [PASSEPORT, PIECES, LECON]


def _weights(text: str) -> dict[str, tuple[float, bool]]:
    """idf over the three passages (what the index computes over a corpus)."""
    documents = [set(ANALYZER.analyze(f"{p.title} {p.section} {p.text}")) for p in PASSAGES]
    weights = {}
    for term in ANALYZER.analyze(text):
        df = sum(term in d for d in documents)
        weights[term] = (math.log1p((len(documents) - df + 0.5) / (df + 0.5)), df > 0)
    return weights


EXTRACTOR = Extractor(analyze=ANALYZER.analyze, weights=_weights)


def answer(question: str) -> str:
    return EXTRACTOR.compose(EXTRACTOR.candidates(question, PASSAGES)).text


def test_a_number_of_the_question_picks_its_row_of_the_table() -> None:
    text = answer("Quel est le prix d'un passeport pour ma fille de 16 ans ?")
    assert "42 €" in text and "86 €" not in text and "17 €" not in text
    assert text.startswith("Le passeport est payant")  # the row's lead-in says what it is


def test_a_list_question_gets_the_whole_list_each_item_cited() -> None:
    text = answer("Quels documents faut-il pour un PACS ?")
    assert text.count("[2]") == 3
    assert "convention de PACS" in text and "**" not in text


def test_a_question_of_the_lesson_never_answers_itself() -> None:
    text = answer("Quelle partie de la fleur devient le fruit ?")
    assert "ovaire" in text and "?" not in text


def test_no_unit_is_offered_for_a_subject_no_passage_treats() -> None:
    candidates = EXTRACTOR.candidates("Combien coûte un permis de chasse ?", PASSAGES)
    assert max(c.coverage for c in candidates) < 0.35


def test_a_unit_that_holds_none_of_the_question_never_leads_while_another_does() -> None:
    """The opening of the first passage, close in meaning, used to lead the answer even
    when it said nothing of the question: a lesson's « SVT — Classe de 5e. » answered how
    a fish breathes."""
    lesson = SourcePassage(
        1,
        "Leçon 1 — La respiration",
        "",
        "SVT — Classe de 5e. Partie : le vivant et son fonctionnement. Le poisson respire "
        "avec des branchies qui prélèvent le dioxygène dissous dans l'eau.",
        opens_section=True,
    )

    def same_meaning(question: str, texts: list[str]) -> list[float]:
        return [0.9 if "Classe" in text else 0.8 for text in texts]  # the opening closest

    extractor = Extractor(analyze=ANALYZER.analyze, weights=_weights, similarity=same_meaning)
    candidates = extractor.candidates("Comment respire un poisson ?", [lesson])
    assert candidates[0].unit.text.startswith("Le poisson respire")
    assert candidates[0].held > 0 and candidates[-1].held == 0
    assert "branchies" in extractor.compose(candidates).text


def test_list_items_whose_lead_in_names_the_question_may_lead() -> None:
    """« le quartz… » holds none of the question's words, its lead-in does: the list still
    answers « De quels minéraux est formé le granite ? »."""
    rocks = SourcePassage(
        1,
        "Leçon 4 — Roches et paysages",
        "Le granite",
        "Les paysages changent avec les saisons et les activités humaines.\n\n"
        "Le granite est une roche formée de cristaux emboîtés :\n\n"
        "- le quartz, transparent, qui raye le verre ;\n- les feldspaths, blancs ou roses ;\n"
        "- le mica, noir et brillant.\n",
    )

    def landscapes_first(question: str, texts: list[str]) -> list[float]:
        return [0.9 if "saisons" in text else 0.8 for text in texts]

    extractor = Extractor(analyze=ANALYZER.analyze, weights=_weights, similarity=landscapes_first)
    candidates = extractor.candidates("De quels minéraux est formé le granite ?", [rocks])
    assert candidates[0].unit.kind == UnitKind.item  # not the sentence on landscapes
    assert "quartz" in extractor.compose(candidates).text


def test_what_a_lead_in_introduces_is_quoted_with_it_and_further_reading_never() -> None:
    """An address alone says nothing: the sentence that introduces it comes with it. The
    titles of links under « En savoir plus : » are not part of any answer."""
    contact = SourcePassage(
        1,
        "Réseau social : comment adresser une demande RGPD ?",
        "",
        "Vous pouvez contacter le délégué du réseau social à partir du formulaire suivant:\n"
        "https://reseau.example/protection-des-donnees/formulaire-de-contact.html\n"
        "En savoir plus :\nDemande RGPD : les étapes\n",
    )
    extractor = Extractor(analyze=ANALYZER.analyze, weights=_weights)
    question = "Réseau social : comment adresser une demande RGPD ?"
    text = extractor.compose(extractor.candidates(question, [contact])).text
    assert text.splitlines()[:2] == [
        "Vous pouvez contacter le délégué du réseau social à partir du formulaire suivant:",
        "https://reseau.example/protection-des-donnees/formulaire-de-contact.html [1].",
    ]
    assert "les étapes" not in text


def test_a_heading_asking_another_kind_of_question_does_not_lead_the_answer() -> None:
    """Under « Qui est concerné ? », an item holding « petite section » and a date said
    who may enrol, not when: « Quand faut-il inscrire mon enfant en petite section ? »."""
    who = SourcePassage(
        1,
        "Inscription scolaire",
        "Qui est concerné ?",
        "- Les enfants qui entrent en petite section : ceux qui ont 3 ans au plus tard le "
        "31 décembre de l'année de la rentrée ;\n- les enfants qui changent d'école.\n",
        opens_section=True,
    )
    when = SourcePassage(
        2,
        "Inscription scolaire",
        "Où et comment faire la demande ? > Étape 1 : l'inscription",
        "Pour la rentrée de septembre, les inscriptions ont lieu du 1er février au 31 mars.",
    )
    extractor = Extractor(analyze=ANALYZER.analyze, weights=_weights)
    question = "Quand faut-il inscrire mon enfant pour sa rentrée en petite section ?"

    candidates = extractor.candidates(question, [who, when])
    assert "1er février au 31 mars" in candidates[0].unit.text
    # The same item answers « Qui » questions as before.
    assert extractor.candidates("Qui peut entrer en petite section ?", [who, when])[0].n == 1


def test_only_an_interrogative_opening_the_last_clause_asks_a_kind() -> None:
    assert asked_kind("Mon bébé est né mardi, jusqu'à quand puis-je le déclarer ?") == {"quand"}
    assert asked_kind("Vidéosurveillance au travail : qui peut consulter les images ?") == {"qui"}
    assert asked_kind("c combien la cantine pour mon gamin ?") == {"combien"}
    # A follow-up rewritten by rule: « et pour la cantine ? » after a « Quand… ? ».
    assert asked_kind("cantine — cantine — Quand faut-il inscrire mon enfant ?") == {"quand"}
    # A « quand » meaning « when, if », a relative « qui »: no kind asked.
    assert not asked_kind("Que faire quand on perd sa carte d'identité ?")
    assert not asked_kind("La personne avec qui je vis doit-elle signer ?")
    assert not asked_kind("Mon fils, qui a 2 ans, doit-il venir ?")


def test_a_documents_own_question_is_answered_by_its_opening() -> None:
    """Asked the FAQ entry's own question, the score's pick among its sentences quoted the
    list of further guides (closest in meaning to the title, being short) instead of the
    entry's answer."""
    entry = SourcePassage(
        1,
        "Gestion du personnel : que faire ?",
        "",
        "Les fichiers de gestion du personnel n'ont plus à être déclarés depuis 2018.\n"
        "Vous devez informer vos employés des conditions de traitement de leurs données.\n"
        "La CNIL propose des outils :\nUn modèle de registre.\nUn guide du personnel.\n",
        opens_section=True,
    )

    def short_first(question: str, texts: list[str]) -> list[float]:
        return [1.0 - len(text) / 1000 for text in texts]  # the shortest is the closest

    extractor = Extractor(analyze=ANALYZER.analyze, weights=_weights, similarity=short_first)
    for question in ("Gestion du personnel : que faire ?", "gestion du personnel, que faire"):
        composed = extractor.compose(extractor.candidates(question, [entry]))
        assert composed.text.startswith("Les fichiers de gestion du personnel"), composed.text
        # Its first units in reading order, within the answer's bounds.
        assert "Vous devez informer" in composed.text and "Un guide" not in composed.text
        assert composed.best is not None and composed.best.own_question
    # The model's pick in another entry of the same title is quoted, not lost.
    twin = SourcePassage(2, entry.title, "", "Un registre suffit.\n", opens_section=True)
    candidates = extractor.candidates("Gestion du personnel : que faire ?", [entry, twin])
    picked = next(c for c in candidates if c.n == 2)
    assert extractor.compose(candidates, picked).text == "Un registre suffit [2]."
    # Another question on the same entry is answered by the score, as before.
    other = extractor.candidates("Un guide du personnel existe-t-il ?", [entry])
    assert not other[0].own_question and other[0].unit.text.startswith("Un guide")


def test_a_title_asking_another_thing_is_not_the_question() -> None:
    """« jusqu'à quand ? » asked with a title's words is not the page's own question: the
    opening says what the procedure is, the deadline is further down."""
    page = SourcePassage(
        1,
        "Déclaration de naissance",
        "",
        "Toute naissance doit être déclarée à l'officier de l'état civil.\n"
        "La déclaration est faite dans les 5 jours qui suivent l'accouchement.\n",
        opens_section=True,
    )
    candidates = EXTRACTOR.candidates("Déclaration de naissance : jusqu'à quand ?", [page])
    assert not candidates[0].own_question
    assert "5 jours" in EXTRACTOR.compose(candidates).text


def test_a_one_word_title_is_the_question_only_when_both_ask_what_it_means() -> None:
    """« C'est quoi les cookies ? » of « Un cookie : qu'est-ce que c'est ? » had been
    answered by the kinds of cookies the entry lists, not by its opening definition."""
    entry = SourcePassage(
        1,
        "Un cookie : qu'est-ce que c'est ?",
        "",
        "Un cookie est un petit fichier déposé sur votre terminal lors d'une visite.\n"
        "Le terme de cookie recouvre par exemple :\n- les cookies HTTP ;\n- les cookies flash.\n",
        opens_section=True,
    )
    for question in ("C'est quoi les cookies ?", "Qu'est-ce qu'un cookie ?"):
        candidates = EXTRACTOR.candidates(question, [entry])
        assert candidates[0].own_question, question
        assert EXTRACTOR.compose(candidates).text.startswith("Un cookie est un petit fichier")
    # One word asked another way is no question of its own (« Le PACS ? » stays short).
    for question in ("Les cookies flash ?", "Combien de temps dure un cookie ?"):
        assert not any(c.own_question for c in EXTRACTOR.candidates(question, [entry]))
