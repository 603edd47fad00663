"""Masking of personal data in what people type, before it is stored or logged."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEP = r"[ .\-]?"
# Order matters: the longest identifiers first, so a NIR is not taken for a phone number.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"),
    ),
    (
        # Numéro de sécurité sociale: sex, year, month, department (2A/2B in Corsica),
        # commune, order, optional two-digit key.
        "nir",
        re.compile(
            rf"\b[12]{_SEP}\d{{2}}{_SEP}(?:0[1-9]|1[0-2]|[2-9]\d){_SEP}(?:\d{{2}}|2[AB]){_SEP}"
            rf"\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?\b",
            re.IGNORECASE,
        ),
    ),
    # Numéro fiscal (SPI): 13 digits starting with 0 to 3.
    ("tax_number", re.compile(rf"\b[0-3]\d(?:{_SEP}?\d){{11}}\b")),
    (
        "phone",
        re.compile(rf"(?:(?<![\w+])0|\+33{_SEP}?(?:\(0\))?{_SEP}?)[1-9](?:{_SEP}\d{{2}}){{4}}\b"),
    ),
)

PLACEHOLDERS = {
    "email": "[courriel masqué]",
    "iban": "[IBAN masqué]",
    "nir": "[n° de sécurité sociale masqué]",
    "tax_number": "[n° fiscal masqué]",
    "phone": "[téléphone masqué]",
}


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def mask_personal_data(text: str) -> Masked:
    """Replace French personal identifiers by placeholders; say which kinds were found."""
    kinds: list[str] = []
    for kind, pattern in _PATTERNS:
        text, count = pattern.subn(PLACEHOLDERS[kind], text)
        if count:
            kinds.append(kind)
    return Masked(text, tuple(kinds))
