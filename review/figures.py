"""Figures in French text: numbers with their units (« 12 m² », « 900 € », « 16 ans »),
the ranges that hold them (« de 801 à 1 100 € »), and the kind of answer a question asks
(an amount for « combien », a date or a duration for « quand »).

The extractive answer (``review.extractive``) uses them to find the table row or list item
that holds the case asked about, and to tell another case (« moins de 5 m² » for a 12 m²
shed) apart.
"""

from __future__ import annotations

import re

_VALUE = r"\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?"
_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_UNIT = rf"(?:€|euros?|ans?|mois|jours?|semaines?|heures?|h|minutes?|m²|m2|m³|m3|km|kg|%|{_MONTHS})"
# A number and the unit written after it (« 12 m² », « 900 € », « 16 ans », « 10 mars »).
_NUMBER = re.compile(rf"(?P<value>{_VALUE})(?:\s*(?P<unit>{_UNIT})(?![\w²³]))?", re.I)
_RANGE = re.compile(
    rf"(?:de|entre)\s+(?P<low>{_VALUE})\s*(?:{_UNIT})?\s*(?:à|et)\s+(?P<high>{_VALUE})"
    rf"|(?:jusqu'à|moins de|au plus)\s+(?P<max>{_VALUE})"
    rf"|(?:plus de|au moins|à partir de|dès)\s+(?P<min>{_VALUE})",
    re.I,
)
_UNIT_AFTER = re.compile(rf"\s*(?P<unit>{_UNIT})(?![\w²³])", re.I)
# One written form per unit (« 25 euros » = « 25 € »), shared with review.grounding.
SAME_UNIT = {
    "euro": "€",
    "euros": "€",
    "an": "ans",
    "jour": "jours",
    "semaine": "semaines",
    "heure": "h",
    "heures": "h",
    "minute": "minutes",
    "m2": "m²",
    "m3": "m³",
}
# What an answer of each kind holds, and how a question asks for it.
AMOUNT = re.compile(r"\d[\d \u00a0\u202f]*(?:[.,]\d+)?\s*(?:€|euros?)|\bgratuit", re.I)
WHEN = re.compile(
    rf"\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|{_MONTHS}|"
    r"jours?|semaines?|mois|ans?|heures?|\d{1,2}\s*h)\b",
    re.I,
)
ASKS_AMOUNT = re.compile(r"\b(combien|prix|co[uû]t|co[uû]te|tarifs?|montant|payer)\b", re.I)
ASKS_WHEN = re.compile(r"\b(quand|d[ée]lai|date|jusqu'?\s?[àa] quand|quel jour|heure)\b", re.I)


def _to_float(text: str) -> float:
    return float(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))


def _unit(raw: str | None) -> str | None:
    if not raw:
        return None
    return SAME_UNIT.get(raw.lower(), raw.lower())


def figures(text: str) -> list[tuple[float, str | None]]:
    """The numbers of a text with their units."""
    return [(_to_float(m["value"]), _unit(m["unit"])) for m in _NUMBER.finditer(text)]


def number_match(numbers: list[tuple[float, str | None]], text: str) -> bool | str | None:
    """True when a number of the question is in a range of ``text`` with the same unit;
    "repeated" when it only appears there as such; False when ``text`` states ranges of
    the question's unit and none holds its number (it speaks of another case, « moins de
    5 m² » for a 12 m² shed); None when there is nothing to compare."""
    if not numbers:
        return None
    ranges = 0
    for match in _RANGE.finditer(text):
        after = _UNIT_AFTER.match(text, match.end())
        unit = _unit(after["unit"]) if after else None
        low = match.group("low") or match.group("min")
        high = match.group("high") or match.group("max")
        lo = _to_float(low) if low else float("-inf")
        hi = _to_float(high) if high else float("inf")
        comparable = [x for x, u in numbers if u is not None and u == unit]
        if not comparable:
            continue  # « au moins 2 mois » says nothing of a 12 m² shed
        ranges += 1
        if any(lo <= x <= hi for x in comparable):
            return True
    present = set(figures(text))
    if any(
        (x, u) in present or (u is None and any(x == y for y, _ in present)) for x, u in numbers
    ):
        return "repeated"
    return False if ranges else None
