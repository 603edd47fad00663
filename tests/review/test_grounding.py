"""Citations and sentence support are checked in code, not by the model."""

from __future__ import annotations

from review.grounding import check_citations, cite, ground_answer

PASSAGES = [
    "Pour refaire une carte d'identité, fournissez une photo d'identité de moins de 6 mois "
    "et un justificatif de domicile de moins d'un an.",
    "Le repas à la cantine coûte 3,20 euros.",
]


def test_markers_pointing_nowhere_are_removed() -> None:
    checked = check_citations("Une photo [1], un justificatif [3] et [12].", n_passages=2)
    assert checked.cited == (1,)
    assert checked.invalid == ("[3]", "[12]")
    assert "[3]" not in checked.text and "[12]" not in checked.text


def test_supported_sentences_kept_and_cited() -> None:
    grounded = ground_answer(
        "Il faut une photo d'identité de moins de 6 mois. Le repas coûte 3,20 euros.",
        PASSAGES,
    )
    assert grounded.kept == 2
    assert grounded.cited == [1, 2]
    assert "mois [1]." in grounded.text
    assert "euros [2]." in grounded.text


def test_invented_figure_or_claim_is_dropped() -> None:
    grounded = ground_answer(
        "Le repas coûte 5 euros [2]. Le maire reçoit le jeudi. Une photo d'identité est "
        "demandée [1].",
        PASSAGES,
    )
    assert grounded.removed == ["Le repas coûte 5 euros [2].", "Le maire reçoit le jeudi."]
    assert grounded.cited == [1]


def test_wrong_marker_is_moved_to_the_supporting_passage() -> None:
    grounded = ground_answer("Le repas à la cantine coûte 3,20 euros [1].", PASSAGES)
    assert grounded.text == "Le repas à la cantine coûte 3,20 euros [2]."


def test_a_reviewers_french_typography_is_kept() -> None:
    text = "Après la fécondation ; les ovules deviennent des graines : c'est sûr ! [1]"
    assert check_citations(text, n_passages=1).text == text


def test_the_marker_goes_before_the_final_punctuation_spaced_as_french_writes_it() -> None:
    assert cite("Le timbre coûte 25 €.", 2) == "Le timbre coûte 25 € [2]."
    assert cite("Attention !", 1) == "Attention [1] !"
    assert cite("Pourquoi pas ?", 3) == "Pourquoi pas [3] ?"
    assert cite("Un guide", 1) == "Un guide [1]"
