"""French analysis: elisions, accents, stopwords, stems."""

from __future__ import annotations

from retrieval.analysis import FrenchAnalyzer


def test_elisions_accents_and_stems() -> None:
    analyze = FrenchAnalyzer().analyze
    assert analyze("L’opérateur d'Orange qu'il faut contacter") == analyze(
        "operateurs orange il faut contacter"
    )
    assert analyze("lorsqu'un élève s'inscrit") == ["elev", "inscrit"]
    assert analyze("Les allocations familiales") == analyze("allocation familiale")


def test_stopwords_dropped_numbers_kept() -> None:
    assert FrenchAnalyzer().analyze("le de la et 2024 à 3") == ["2024", "3"]


def test_question_words_are_kept() -> None:
    # FAQ titles are questions: the question word is part of what matches.
    assert FrenchAnalyzer().analyze("Combien coûte un passeport ?")[0] == "combien"


def test_acronyms_ending_in_s_are_kept_whole() -> None:
    """« PACS » used to be stemmed to « pac », apart from « pacser » and « pacsé »."""
    analyze = FrenchAnalyzer().analyze
    assert analyze("PACS") == analyze("pacs") == analyze("se pacser")[-1:] == ["pacs"]
    assert analyze("pacsés") == ["pacs"]
    assert analyze("l'ANTS") == ["ants"]
    assert analyze("les ans") == analyze("un an")  # plurals are still plurals


def test_ligatures_read_as_keyboards_type_them() -> None:
    """Most keyboards have no « œ »: « ma soeur » must find the page about « sœur »."""
    analyze = FrenchAnalyzer().analyze
    assert analyze("Ma sœur") == analyze("ma soeur")
    assert analyze("un cœur, une œuvre, un ex æquo") == analyze("un coeur, une oeuvre, un ex aequo")
