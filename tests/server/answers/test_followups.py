"""Follow-ups made to stand alone by rule when the model's rewrite cannot be used."""

from __future__ import annotations

from retrieval.analysis import FrenchAnalyzer
from review.extractive import Extractor
from server.answers.followups import FollowUps

ANALYZER = FrenchAnalyzer()
FOLLOWUPS = FollowUps(
    analyze=ANALYZER.analyze,
    content=lambda text: set(Extractor.content_terms(ANALYZER.analyze, text)),
)


def test_a_subject_already_asked_about_replaces_its_phrase() -> None:
    previous = "Combien coûte la salle polyvalente pour un week-end ?"
    assert FOLLOWUPS.by_rule("et la salle du Lavoir ?", previous) == (
        "Combien coûte la salle du Lavoir pour un week-end ?"
    )


def test_a_new_subject_weighs_more_than_the_previous_one() -> None:
    rewritten = FOLLOWUPS.by_rule(
        "et pour un passeport ?", "J'ai perdu ma carte d'identité, combien ça coûte ?"
    )
    assert rewritten.count("passeport") == 2 and rewritten.endswith("combien ça coûte ?")


def test_a_followup_without_subject_asks_about_the_previous_one() -> None:
    rewritten = FOLLOWUPS.by_rule("et c'est combien ?", "Quels documents pour un PACS ?")
    assert "PACS" in rewritten and "combien" in rewritten


def test_only_rewrites_keeping_the_followup_are_used() -> None:
    previous = "J'ai perdu ma carte d'identité, combien ça coûte ?"
    question = "et pour un passeport ?"
    assert FOLLOWUPS.usable(
        "Combien coûte un passeport perdu ?", question=question, previous=previous
    )
    assert not FOLLOWUPS.usable(previous, question=question, previous=previous)
    assert not FOLLOWUPS.usable(
        "Le passeport coûte 86 € [1].", question=question, previous=previous
    )
    assert FOLLOWUPS.is_followup(question)
    assert not FOLLOWUPS.is_followup("Combien de témoins faut-il pour un mariage ?")


def test_an_answer_to_a_followup_must_name_its_new_subject() -> None:
    previous = "J'ai perdu ma carte d'identité, combien ça coûte pour la refaire ?"
    question = "et pour un passeport ?"
    on_the_card = "En cas de perte ou de vol, un timbre fiscal de 25 € est demandé [1]."
    on_the_passport = "Le passeport coûte 86 € pour un adulte [1]. Passeport — Prix"
    assert not FOLLOWUPS.names_subject(question=question, previous=previous, answer=on_the_card)
    assert FOLLOWUPS.names_subject(question=question, previous=previous, answer=on_the_passport)


def test_only_what_says_something_specific_counts() -> None:
    previous = "Combien coûte un passeport ?"
    answer = "Le passeport d'un mineur de 15 à 17 ans coûte 42 € [1]."
    # Masked personal data, figures, typos, fillers and everyday words are not what the
    # answer must name.
    for question in (
        "et pour mon fils [nom masqué] ?",
        "et pour 2 ?",
        "et sinon stp ?",
        "et pour un pasport ?",
        "et ça prend combien de temps ?",
    ):
        assert FOLLOWUPS.names_subject(question=question, previous=previous, answer=answer), (
            question
        )
    # One specific word named is enough when the follow-up brings several.
    assert FOLLOWUPS.names_subject(
        question="et pour un mineur qui vit à l'étranger ?", previous=previous, answer=answer
    )
    # A word of the corpus that everyday French does not know is specific.
    fnaeg = {"fnaeg"}.__contains__
    assert not FOLLOWUPS.names_subject(
        question="et pour le FNAEG ?", previous=previous, answer=answer, known=fnaeg
    )


def test_questions_without_a_new_subject_need_nothing_named() -> None:
    answer = "Le mariage et l'enregistrement du PACS en mairie sont gratuits [3]."
    previous = "Quels documents faut-il pour se pacser à la mairie ?"
    assert FOLLOWUPS.names_subject(question="et c'est combien ?", previous=previous, answer=answer)
    assert FOLLOWUPS.names_subject(question=previous, previous=None, answer="Sans rapport.")
    standalone = "Combien de témoins faut-il pour un mariage ?"
    assert FOLLOWUPS.names_subject(question=standalone, previous=previous, answer="Sans rapport.")


CARD_TITLE = "Carte nationale d'identité : première demande et renouvellement"
HEADINGS = {"passeport", "cantin", "act", "naissanc", "ecol", "garag"}


def headed(term: str) -> bool:
    return any(term.startswith(h) for h in HEADINGS)


def rewritten(question: str, previous: str, title: str = CARD_TITLE) -> str:
    return FOLLOWUPS.by_rule(question, previous, titles=[title], headed=headed)


def test_a_new_subject_replaces_the_phrase_the_previous_answer_was_about() -> None:
    previous = "J'ai perdu ma carte d'identité, combien ça coûte pour la refaire ?"
    assert rewritten("et pour un passeport ?", previous) == (
        "J'ai perdu un passeport, combien ça coûte pour la refaire ?"
    )
    assert rewritten("et l'acte de naissance ?", "Combien coûte la carte d'identité ?") == (
        "Combien coûte l'acte de naissance ?"
    )
    # An elided article opens a phrase; « de » and « le » make « du ».
    assert rewritten(
        "et pour la cantine ?",
        "Comment inscrire mon enfant à l'école ?",
        "Inscription scolaire en école maternelle et élémentaire",
    ) == ("Comment inscrire mon enfant à la cantine ?")
    assert rewritten("et le passeport ?", "Quelles pièces de la carte d'identité faut-il ?") == (
        "Quelles pièces du passeport faut-il ?"
    )
    # The first phrase is the subject: « la » is a pronoun in « comment la refaire ».
    assert rewritten(
        "et pour un passeport ?",
        "J'ai perdu ma carte, comment la refaire en ligne ?",
        "Refaire sa carte d'identité en ligne",
    ) == ("J'ai perdu un passeport, comment la refaire en ligne ?")


def test_only_a_subject_the_corpus_heads_replaces_another() -> None:
    previous = "Quels papiers pour refaire la carte d'identité ?"
    # Not a procedure for another: a person, a way, a place, or a word no heading holds.
    for question in (
        "et pour mon fils ?",
        "et en ligne ?",
        "et à Lyon ?",
        "et un frigo ?",
        "et la cantine, c'est combien ?",  # a question of its own: kept whole
        "et le passeport il coûte combien ?",
    ):
        subject = FOLLOWUPS.by_rule(question, previous, titles=[CARD_TITLE], headed=headed)
        assert subject.endswith(f"— {previous}"), subject
    # A title word that no article opens is no subject: « d'identité » is a complement,
    # « respire » a verb.
    for question, before, title in (
        ("et pour un passeport ?", "carte d'identité perdue, que faire ?", CARD_TITLE),
        ("et un passeport ?", "Comment respire un criquet ?", "La respiration"),
        (
            "et pour une déclaration préalable ?",
            "Quel est le délai d'instruction d'un permis de construire ?",
            "Travaux : permis de construire",
        ),
    ):
        assert rewritten(question, before, title).endswith(f"— {before}"), question
