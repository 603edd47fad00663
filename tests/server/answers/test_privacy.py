"""French personal identifiers are masked before anything is stored or logged; numbers
that merely look like one (their check fails) are kept."""

from __future__ import annotations

import pytest

from server.answers.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "kind", "leak"),
    [
        ("Mon NIR est 1 85 05 78 006 084 91.", "nir", "006 084"),
        ("Mon NIR est 185057800608491", "nir", "0060849"),
        ("NIR corse 2 90 12 2A 004 123 67", "nir", "2A 004"),
        # Written in its groups, a NIR is one even with a mistyped or missing key.
        ("NIR 1 85 05 78 006 084 36", "nir", "006 084"),
        ("NIR 1 85 05 78 006 084", "nir", "006 084"),
        ("IBAN : FR76 3000 6000 0112 3456 7890 189", "iban", "3000 6000"),
        ("Appelez-moi au 06 12 34 56 78", "phone", "34 56"),
        ("ou au +33 6 12 34 56 78", "phone", "12 34"),
        ("Écrivez à jeanne.martin@exemple.fr", "email", "jeanne.martin"),
        ("Mon numéro fiscal 0123456789211", "tax_number", "0123456789211"),
        ("SIRET 732 829 320 00074", "siret", "829 320"),
        ("mon SIREN : 732 829 320", "siren", "829 320"),
    ],
)
def test_identifiers_are_masked(text: str, kind: str, leak: str) -> None:
    masked = mask_personal_data(text)
    assert kind in masked.kinds
    assert leak not in masked.text


@pytest.mark.parametrize(
    "text",
    [
        "Le timbre coûte 25 €, rendez-vous le 12/05/2026 à 14 h, délai 3 semaines.",
        # Shaped like identifiers, but their check fails: ordinary numbers.
        "Dossier 1234567890123 enregistré.",  # 13 digits from 0-3: not a valid numéro fiscal
        "Référence 185057800608436.",  # 15 digits: not a valid NIR key
        "IBAN FR76 3000 6000 0112 3456 7890 188",  # one digit off
        "Appelez le 00 689 40 41 55 00.",  # masked as a tax number before the checks
        "Colis 123 456 789 reçu.",  # nine digits not introduced as a SIREN
    ],
)
def test_ordinary_figures_are_kept(text: str) -> None:
    masked = mask_personal_data(text)
    assert masked.text == text
    assert not masked.found
