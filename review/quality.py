"""Checks that an answer reads as sound French, whatever its sources say.

A small model loops (« si le dernier jour tombe le dernier jour tombe… »), stops in the
middle of a sentence, copies Markdown syntax or makes up words (« déliciement »). Each of
these is found in code; the answer pipeline drops such sentences, and `guichet eval
answers` counts released answers that still show one (``garbled``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from retrieval.analysis import french_frequencies

# A run of this many words seen twice is a loop, not style. Shorter runs repeat in sound
# answers (« Prix du repas : » on each row of a fee table).
REPEAT_WORDS = 6
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_RAW_MARKDOWN = re.compile(
    r"\*\*|__|`|^\s{0,3}#{1,6}\s|^\s*\|.*\|\s*$|\[[^\]\n]+\]\([^)\n]+\)|^\s*[-*]{3,}\s*$", re.M
)
# Words that cannot end a sentence: articles, prepositions, conjunctions.
# (Not « le », « un », « leur »: they end sentences as pronouns, « si vous en avez un ».)
_DANGLING = frozenset(
    """des du de d au aux à et ou mais donc or ni car que qu dont pour par avec sans sur
    sous dans vers chez entre cette ces son sa ses mon ma mes ton ta tes votre vos notre
    nos the of to and or""".split()
)


# What is left of elided words once the apostrophe splits them (« jusqu'au »).
_ELIDED = frozenset("jusqu lorsqu puisqu quoiqu quelqu presqu aujourd".split())


@dataclass(frozen=True)
class Problem:
    """What is wrong with a text: ``code`` is one of ``repeated``, ``cut``, ``markdown``,
    ``unknown_word``; ``detail`` shows where."""

    code: str
    detail: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def french_lexicon() -> frozenset[str]:
    """French words (accents folded)."""
    return frozenset(french_frequencies())


def words_of(text: str) -> list[str]:
    """Words of ``text``, folded, elisions and hyphenated parts split (« l'ovaire »)."""
    return [p for w in _WORD.findall(_fold(text)) for p in re.split(r"['’-]", w) if p]


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def repeated_phrase(
    text: str, *, size: int = REPEAT_WORDS, known: Iterable[str] = ()
) -> str | None:
    """The first run of ``size`` words (numbers count as words) that occurs twice, unless
    one of the ``known`` texts repeats it too (a document's own wording is not a loop)."""
    known_texts = [" ".join(_TOKEN.findall(_fold(t))) for t in known]
    # Line by line: the rows of a fee table share their headers; a loop stays in a line.
    for line in _MARKER.sub("", text).splitlines():
        words = _TOKEN.findall(_fold(line))
        seen: set[tuple[str, ...]] = set()
        for i in range(len(words) - size + 1):
            gram = tuple(words[i : i + size])
            if gram in seen:
                phrase = " ".join(gram)
                if not any(t.count(phrase) > 1 for t in known_texts):
                    return phrase
            seen.add(gram)
    return None


def cut_sentence(text: str, *, known: Iterable[str] = ()) -> str | None:
    """The end of a sentence left unfinished (dangling word, open bracket), if any.

    A line ending with « : » is a list's lead-in when more lines follow it; a line that a
    ``known`` text holds word for word is the document's own wording, not a cut.
    """
    sources = [" ".join(_TOKEN.findall(_fold(t))) for t in known]
    lines = [line.strip() for line in _MARKER.sub("", text).splitlines() if line.strip()]
    for n, line in enumerate(lines):
        words = " ".join(_TOKEN.findall(_fold(line)))
        if words and any(words in source for source in sources):
            continue
        if line.count("(") > line.count(")") or line.count("«") > line.count("»"):
            return line[-40:]
        if line.endswith(":") and n < len(lines) - 1:
            continue  # a lead-in: « Pièces à fournir : » then the items
        if line.endswith((",", ":")):
            return line[-40:]
        tokens = _TOKEN.findall(_fold(line))
        if tokens and tokens[-1] in _DANGLING:
            return line[-40:]
    return None


def raw_markdown(text: str) -> str | None:
    """Markdown syntax that a reader would see as such (emphasis, heading, table, link)."""
    match = _RAW_MARKDOWN.search(text)
    return match.group(0).strip() if match else None


def unknown_words(text: str, *, known: Iterable[str] = ()) -> list[str]:
    """Words found neither in ``known`` texts (passages, question) nor in French."""
    allowed = {w for t in known for w in words_of(t)} | _ELIDED
    lexicon = french_frequencies()
    return [
        w
        for w in dict.fromkeys(words_of(_MARKER.sub("", text)))
        if len(w) > 2 and w not in allowed and w not in lexicon
    ]


def problems(text: str, *, known: Iterable[str] = ()) -> list[Problem]:
    """Every reason ``text`` would read as garbled (empty when it reads soundly)."""
    found: list[Problem] = []
    known = list(known)
    if phrase := repeated_phrase(text, known=known):
        found.append(Problem("repeated", phrase))
    if end := cut_sentence(text, known=known):
        found.append(Problem("cut", end))
    if syntax := raw_markdown(text):
        found.append(Problem("markdown", syntax))
    if unknown := unknown_words(text, known=known):
        found.append(Problem("unknown_word", " ".join(unknown[:5])))
    return found
