"""French personal identifiers are masked before anything is stored or logged."""

from __future__ import annotations

import pytest

from server.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "kind", "leak"),
    [
        ("Mon NIR est 1 85 05 78 006 084 36.", "nir", "006 084"),
        ("NIR corse 2 90 12 2A 004 123 45", "nir", "2A 004"),
        ("IBAN : FR76 3000 6000 0112 3456 7890 189", "iban", "3000 6000"),
        ("Appelez-moi au 06 12 34 56 78", "phone", "34 56"),
        ("ou au +33 6 12 34 56 78", "phone", "12 34"),
        ("Écrivez à jeanne.martin@exemple.fr", "email", "jeanne.martin"),
        ("Mon numéro fiscal 0123456789012", "tax_number", "0123456789012"),
    ],
)
def test_identifiers_are_masked(text: str, kind: str, leak: str) -> None:
    masked = mask_personal_data(text)
    assert kind in masked.kinds
    assert leak not in masked.text


def test_ordinary_figures_are_kept() -> None:
    text = "Le timbre coûte 25 €, rendez-vous le 12/05/2026 à 14 h, délai 3 semaines."
    masked = mask_personal_data(text)
    assert masked.text == text
    assert not masked.found
