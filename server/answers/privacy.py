"""Masking of personal data in what people type, before it is stored or logged.

Identifiers that carry a check are masked only when the check holds (python-stdnum): a
numéro de sécurité sociale with its key, an IBAN, a SIRET, a SIREN introduced as such, a
numéro fiscal. So the ordinary numbers of a question (a file number, an amount, a date)
stay as typed; ``scripts/measure_masking.py`` counts what is masked on the demo corpora
and the shared evaluation sets. Addresses and phone numbers carry no check: their shape
is enough. People's names need a model: spaCy's French pipeline (server/answers/names.py).
A NIR written in its groups (« 1 85 05 78 006 084 91 ») is masked even with a
wrong or missing key, a typo in a real number being personal data all the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum import iban
from stdnum.fr import nif, nir, siren, siret

from server.answers.names import ADDRESS_PLACEHOLDER, NAME_PLACEHOLDER, mask_names_and_addresses

_SEP = r"[ .\-]?"
_NIR_GROUPS = (
    rf"[12]{_SEP}\d{{2}}{_SEP}(?:0[1-9]|1[0-2]|[2-9]\d){_SEP}(?:\d{{2}}|2[AB]){_SEP}"
    rf"\d{{3}}{_SEP}\d{{3}}"
)


def _digits(text: str) -> str:
    return re.sub(r"[ .\-]", "", text)


def _nir(candidate: str) -> bool:
    """Written in the NIR's groups (« 1 85 05 78 006 084 91 »), it is one even with a wrong
    or missing key: that is a typo in a real number. A run of digits must pass the key."""
    if re.search(r"[ .\-]", candidate):
        return True
    return nir.is_valid(candidate.upper())


@dataclass(frozen=True)
class _Kind:
    name: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None
    placeholder: str


# Order matters: the longest identifiers first, so a NIR is not taken for a phone number.
_KINDS = (
    _Kind(
        "email",
        re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
        None,
        "[courriel masqué]",
    ),
    _Kind(
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"),
        lambda found: iban.is_valid(found),
        "[IBAN masqué]",
    ),
    _Kind(
        "nir",
        re.compile(rf"\b{_NIR_GROUPS}(?:{_SEP}\d{{2}})?\b", re.IGNORECASE),
        _nir,
        "[n° de sécurité sociale masqué]",
    ),
    _Kind(
        "siret",
        re.compile(rf"\b\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{5}}\b"),
        lambda found: siret.is_valid(_digits(found)),
        "[n° SIRET masqué]",
    ),
    _Kind(
        # A SIREN is any nine digits that pass Luhn (one in ten does): only when named.
        "siren",
        re.compile(rf"(?<=\bsiren)(?:\s*(?:n°|:)?\s*)\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{3}}\b", re.I),
        lambda found: siren.is_valid(_digits(found.strip(" :n°"))),
        " [n° SIREN masqué]",
    ),
    # Numéro fiscal (SPI): 13 digits starting with 0 to 3, the last three a check.
    _Kind(
        "tax_number",
        re.compile(rf"\b[0-3]\d(?:{_SEP}?\d){{11}}\b"),
        lambda found: nif.is_valid(_digits(found)),
        "[n° fiscal masqué]",
    ),
    _Kind(
        "phone",
        re.compile(rf"(?:(?<![\w+])0|\+33{_SEP}?(?:\(0\))?{_SEP}?)[1-9](?:{_SEP}\d{{2}}){{4}}\b"),
        None,
        "[téléphone masqué]",
    ),
)
PLACEHOLDERS = {
    **{kind.name: kind.placeholder.strip() for kind in _KINDS},
    "name": NAME_PLACEHOLDER,
    "address": ADDRESS_PLACEHOLDER,
}


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def mask_personal_data(text: str, *, names: bool = True) -> Masked:
    """Replace French personal identifiers by placeholders; say which kinds were found.
    With ``names``, people's names and postal addresses too (server/answers/names.py)."""
    kinds: list[str] = []
    for kind in _KINDS:
        count = 0

        def replace(match: re.Match[str], kind: _Kind = kind) -> str:
            nonlocal count
            if kind.check is not None and not kind.check(match.group(0)):
                return match.group(0)
            count += 1
            return kind.placeholder

        text = kind.pattern.sub(replace, text)
        if count:
            kinds.append(kind.name)
    if names and text.strip():
        text, found = mask_names_and_addresses(text)
        kinds.extend(found)
    return Masked(text, tuple(kinds))
