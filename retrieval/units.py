"""A passage cut into the smallest pieces an answer can quote: sentences, list items, rows.

Answers made of whole pieces of the documents are right by construction, provided each
piece reads on its own. So a table row carries its column headers (« Quotient familial :
De 801 à 1 100 € — Prix du repas : 3,00 € »), Markdown emphasis is removed, and pieces that
must never make an answer are marked: headings written as plain lines, questions (the
« Questions pour réviser » of a lesson, an FAQ's own title), navigation trails.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class UnitKind(enum.StrEnum):
    sentence = "sentence"
    item = "item"  # a list item
    row = "row"  # a table row, with its headers
    heading = "heading"  # a short line without a verb's punctuation: a title, not content
    question = "question"
    navigation = "navigation"
    lead = "lead"  # a line ending with « : » that introduces what follows


# Kinds an answer may quote.
QUOTABLE = frozenset({UnitKind.sentence, UnitKind.item, UnitKind.row})


@dataclass(frozen=True)
class Unit:
    """One quotable (or deliberately not quotable) piece of a passage, in reading order.

    ``block`` numbers the paragraph, list or table the unit belongs to, so that neighbours
    can be told apart from pieces of another part of the passage; ``lead`` is the line that
    introduces a list (« Pièces à fournir : »), kept as context for its items, or the one
    right before a sentence it introduces (« …le formulaire suivant: » and the address).
    """

    text: str
    kind: UnitKind
    position: int
    block: int
    lead: str = ""

    @property
    def quotable(self) -> bool:
        return self.kind in QUOTABLE


_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^\s*(?:[-*+•–]|\d{1,2}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A sentence ends at . ! ? … followed by a space and a capital, a digit, a quote or a
# bracket; not after a lone capital (« M. Dupont »), a number with a decimal point, or the
# usual abbreviations.
_ABBREVIATIONS = ("cf", "art", "n°", "no", "p", "ex", "env", "min", "max", "av", "bd")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[»\")]?\s+(?=[«\"(A-ZÀ-ÖØ-Þ0-9])")
_NAVIGATION = re.compile(r"\S\s+>\s+\S.*\s>\s")
# A trail of one step, on a line of its own (« Autre > Comment faire si... »): both sides
# open with a capital and no sentence ends in it, so a comparison (« indice de masse
# corporelle > 30 », « Si A > B, alors C. ») is none.
_SHORT_TRAIL = re.compile(r"^[A-ZÀ-ÖØ-Þ][^>.!?]{0,60}\s>\s[A-ZÀ-ÖØ-Þ][^>.!?]{0,80}(?:\.{2,3}|…)?$")
# What introduces further reading, as a lead-in line or a heading (« En savoir plus : »,
# « Voir aussi »): the title-like lines after it are links' titles. Inline, only with its
# colon and a title (« Pour en savoir plus : Le FCC Fichier en fiche »): « Pour en savoir
# plus, appelez le 39 39. » is a sentence.
_FURTHER = re.compile(r"^(?:pour )?en savoir plus\b|^voir aussi\b|^liens? utiles?\b", re.I)
_FURTHER_INLINE = re.compile(r"^(?:(?:pour )?en savoir plus|voir aussi)\s*:\s*\S", re.I)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def plain(text: str) -> str:
    """Markdown inline syntax removed: emphasis, code, links (their address kept), images."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _CODE.sub(r"\1", text)
    previous = None
    while previous != text:  # nested emphasis (**_x_**)
        previous = text
        text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", text)
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def split_units(text: str) -> list[Unit]:
    """The units of a passage's text (Markdown or plain), in reading order."""
    units: list[Unit] = []
    block = 0
    lead = ""
    # Under « En savoir plus : »: until a heading, a table, a sentence, or a blank line
    # after a link's title.
    further = links = False
    lines = _join_wrapped(text.replace("\r\n", "\n").split("\n"))
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            block += 1
            further = further and not links
            i += 1
            continue
        if line.lstrip().startswith("|"):
            further = False
            table, i = _take_table(lines, i)
            block += 1
            units.extend(_table_units(table, len(units), block, lead))
            block += 1
            continue
        if _HEADING.match(line):
            heading = plain(_HEADING.sub("", line))
            units.append(_unit(heading, UnitKind.heading, units, block))
            block += 1
            lead = ""
            further, links = _introduces_links(heading), False
            i += 1
            continue
        if _BULLET.match(line):
            item = plain(_BULLET.sub("", line)).rstrip(" ;,")
            if item:
                title = further and not _ends_sentence(item)
                links = links or title
                kind = UnitKind.navigation if title else _kind(item, default=UnitKind.item)
                units.append(_unit(item, kind, units, block, lead))
            i += 1
            continue
        # A paragraph: consecutive plain lines. Lines without final punctuation that
        # stand alone (plain-text pages) are headings or list items without bullets.
        paragraph = plain(line)
        i += 1
        sentences = _sentences(paragraph)
        further = further and not _ends_sentence(paragraph) and not paragraph.endswith(":")
        # The sentence right after a lead-in line is read with it, as an item is (« …à
        # partir du formulaire de contact suivant: » and the address).
        previous = units[-1] if units else None
        lead_in = ""
        if previous and previous.kind == UnitKind.lead and not _introduces_links(previous.text):
            lead_in = previous.text
        # « En savoir plus : » and a link's title on one line: the title-like lines after
        # it are links too, as under the lead-in alone.
        inline_links = bool(_FURTHER_INLINE.match(paragraph)) and not _ends_sentence(paragraph)
        if further or inline_links:
            units.append(_unit(paragraph, UnitKind.navigation, units, block))
            further = links = True
        elif _SHORT_TRAIL.match(paragraph):
            units.append(_unit(paragraph, UnitKind.navigation, units, block))
        elif (
            len(sentences) == 1 and not _ends_sentence(paragraph) and _looks_like_heading(paragraph)
        ):
            units.append(_unit(paragraph, UnitKind.heading, units, block))
        else:
            for sentence in sentences:
                units.append(_unit(sentence, _kind(sentence), units, block, lead_in))
                lead_in = ""
        # Only the sentence that introduces a list is its lead-in, not the paragraph
        # before it: the sentences before are units of their own.
        lead = sentences[-1] if sentences and paragraph.endswith(":") else ""
        if _introduces_links(lead):
            further, links = True, False
        block += 1
    return units


def _join_wrapped(lines: list[str]) -> list[str]:
    """Lines that continue the one before are joined to it: after a comma or an open
    bracket, or a line starting in lower case after one without final punctuation
    (« (ex. carte SIM, connexion à un réseau WiFi, » / « etc.). »)."""
    joined: list[str] = []
    for line in lines:
        if (
            joined
            and line.strip()
            and not _BULLET.match(line)
            and not line.lstrip().startswith("|")
        ):
            previous = joined[-1].rstrip()
            if previous and not _HEADING.match(previous) and not _BULLET.match(previous):
                unbalanced = previous.count("(") > previous.count(")")
                continues = (
                    previous.endswith(",")
                    or unbalanced
                    or (previous[-1] not in ".!?…;:" and line.lstrip()[:1].islower())
                )
                if continues:
                    joined[-1] = f"{previous} {line.strip()}"
                    continue
        joined.append(line)
    return joined


def _unit(text: str, kind: UnitKind, units: list[Unit], block: int, lead: str = "") -> Unit:
    return Unit(text=text, kind=kind, position=len(units), block=block, lead=lead)


def _kind(text: str, *, default: UnitKind = UnitKind.sentence) -> UnitKind:
    if text.rstrip(' »")').endswith("?") or " ? " in text:
        return UnitKind.question  # « Quel test… ? Décris le résultat. » is an exercise
    if _NAVIGATION.search(text) or _FURTHER_INLINE.match(text):
        return UnitKind.navigation  # a trail, or « En savoir plus : » with a link's title
    if text.rstrip().endswith(":"):
        return UnitKind.lead  # « Pièces à fournir : » says nothing without its list
    return default


def _introduces_links(text: str) -> bool:
    """« En savoir plus : », « Voir aussi », « Liens utiles » alone on their line."""
    return bool(_FURTHER.match(text)) and len(_WORD.findall(text)) <= 4


def _ends_sentence(text: str) -> bool:
    return text.rstrip(' »")').endswith((".", "!", "?", "…", ";"))


def _looks_like_heading(text: str) -> bool:
    """A short line with no final punctuation (« Pièces nécessaires », « Coût »)."""
    if text.endswith(":"):
        return False
    return len(_WORD.findall(text)) <= 8 and len(text) <= 80


def _sentences(paragraph: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start()].rstrip()
        last_word = before.split()[-1].rstrip(".") if before else ""
        if last_word.lower() in _ABBREVIATIONS or re.fullmatch(r"[A-ZÀ-Þ]", last_word):
            continue  # « etc. », « M. Dupont »: not the end of a sentence
        pieces.append(paragraph[start : match.end()].strip())
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return [p for p in pieces if p]


def _take_table(lines: list[str], i: int) -> tuple[list[str], int]:
    table = []
    while i < len(lines) and lines[i].lstrip().startswith("|"):
        table.append(lines[i])
        i += 1
    return table, i


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [plain(c) for c in re.split(r"(?<!\\)\|", inner)]


def _table_units(table: list[str], start: int, block: int, lead: str) -> list[Unit]:
    """Each data row becomes « Header : cell — Header : cell »."""
    headers: list[str] = []
    rows = table
    if len(table) >= 2 and _TABLE_RULE.match(table[1]):
        headers, rows = _cells(table[0]), table[2:]
    units: list[Unit] = []
    for row in rows:
        if _TABLE_RULE.match(row):
            continue
        cells = _cells(row)
        parts = []
        for n, cell in enumerate(cells):
            if not cell:
                continue
            header = headers[n] if n < len(headers) else ""
            parts.append(f"{header} : {cell}" if header else cell)
        if parts:
            text = " — ".join(parts)
            units.append(Unit(text, UnitKind.row, start + len(units), block, lead))
    return units
