"""What makes an answer read as garbled: loops, cut sentences, raw Markdown, made-up words."""

from __future__ import annotations

from review.quality import problems


def codes(text: str, known: tuple[str, ...] = ()) -> list[str]:
    return [p.code for p in problems(text, known=known)]


def test_a_sound_answer_has_no_problem() -> None:
    assert codes("La déclaration peut donc être faite jusqu'au lundi inclus [2].") == []


def test_a_loop_is_a_repeated_phrase() -> None:
    text = "Si le dernier jour tombe le dernier jour tombe le dernier jour tombe le dernier jour."
    assert codes(text) == ["repeated"]


def test_rows_of_a_fee_table_are_not_a_loop() -> None:
    text = (
        "- Quotient familial : De 801 à 1 100 € — Prix du repas : 3,00 € [1].\n"
        "- Quotient familial : De 1 101 à 1 500 € — Prix du repas : 3,70 € [1]."
    )
    assert codes(text) == []


def test_a_sentence_cut_off_is_found() -> None:
    assert "cut" in codes("Le timbre fiscal coûte 25 € [2]. En cas de perte ou de vol, [2]")
    assert "cut" in codes("Le dossier est déposé à la mairie de")


def test_a_list_lead_in_is_not_a_cut_sentence() -> None:
    assert codes("Une déclaration préalable suffit pour :\n- un abri de 12 m² [1].") == []


def test_raw_markdown_is_found() -> None:
    assert codes("Le timbre coûte **25 €** [1].") == ["markdown"]


def test_made_up_words_are_found_unless_the_passages_use_them() -> None:
    text = "Le timbre fiscal est déliciement de la carte [2]."
    assert codes(text) == ["unknown_word"]
    assert codes(text, known=("Un déliciement est prévu.",)) == []
