"""Checks in code that an answer says only what its passages say.

The model's own judgement is not trusted (a small model marks everything as
supported or nothing): citations are validated against the passages given, and
each sentence must share enough content words with a passage to be kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

import Stemmer

from retrieval.units import split_units
from review.figures import SAME_UNIT
from review.quality import problems

_STOPWORDS = frozenset(
    """a ai aie au aux avec c ce ces cet cette d dans de des du elle elles en est et etre
    eu il ils j je l la le les leur leurs lui m ma mais me mes moi mon n ne nos notre nous
    on ou par pas pour qu que qui s sa se ses si son sont sur t ta te tes toi ton tu un une
    vos votre vous y est sont ete etait faut peut peuvent doit doivent comment quel quelle
    quels quelles quoi ou est-ce ce cela ca faire fait plus tout tous toute toutes tres
    the of to and is are what how""".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def fold(text: str) -> str:
    """Lower case without accents, elisions split off (« l'adresse » → « l adresse »)."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def content_stems(text: str) -> list[str]:
    words = [w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS and len(w) > 1]
    return list(_stemmer().stemWords(words))


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def coverage(query: str, passage: str) -> float:
    """Share of the query's content words found in the passage."""
    wanted = set(content_stems(query))
    if not wanted:
        return 0.0
    return len(wanted & set(content_stems(passage))) / len(wanted)


_FIGURE = re.compile(
    r"(\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?)\s*"
    r"(€|euros?|%|ans?|mois|jours?|semaines?|heures?|h\b|minutes?|m²|m2|m³|km|kg|cm|mm)?",
    re.I,
)


def figures(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs of a text, in one written form (« 25 euros » = « 25 € »)."""
    found = set()
    for number, unit in _FIGURE.findall(text):
        value = re.sub(r"[ \u00a0\u202f]", "", number).replace(".", ",")
        value = re.sub(r",0+$", "", value)
        unit = unit.lower()
        found.add((value, SAME_UNIT.get(unit, unit)))
    return found


def _figures_held(sentence: str, unit: str) -> bool:
    """Every figure of the sentence is in the unit, with the same unit when it has one."""
    wanted = figures(sentence)
    if not wanted:
        return True
    held = figures(unit)
    numbers = {n for n, _ in held}
    return all((n, u) in held if u else n in numbers for n, u in wanted)


def support(sentence: str, passage: str, *, known: frozenset[str] = frozenset()) -> float:
    """How well *one sentence* of the passage supports what a sentence adds to ``known``
    (the question's words): the best share of its new content words that a single unit
    of the passage (sentence, list item, table row) holds, with all its figures and their
    units. Words scattered across a passage support nothing: a sentence is a claim, and a
    claim is supported by a sentence, not by a bag of words.

    A sentence that only restates the question adds nothing and gets no support; a
    figure absent from the supporting unit means no support either.
    """
    return best_unit(sentence, passage, known=known)[0]


def best_unit(
    sentence: str, passage: str, *, known: frozenset[str] = frozenset()
) -> tuple[float, str]:
    """The support of ``sentence`` by its best unit of ``passage``, and that unit."""
    novel = set(content_stems(sentence)) - known
    if not novel:
        return 0.0, ""
    best: tuple[float, str] = (0.0, "")
    for unit in _passage_units(passage):
        if not _figures_held(sentence, unit):
            continue
        share = len(novel & set(content_stems(f"{unit}"))) / len(novel)
        if share > best[0]:
            best = (share, unit)
    return best


@lru_cache(maxsize=4096)
def _passage_units(passage: str) -> tuple[str, ...]:
    """The units of a passage; a list item or row also joined to its lead-in, which it
    means little without (« Une déclaration préalable suffit pour : … 5 et 20 m² »)."""
    units = split_units(passage)
    return tuple(
        [u.text for u in units if u.text] + [f"{u.lead} {u.text}" for u in units if u.lead]
    )


@dataclass(frozen=True)
class CitationCheck:
    text: str
    cited: tuple[int, ...]
    invalid: tuple[str, ...]


def check_citations(text: str, n_passages: int) -> CitationCheck:
    """Keep ``[n]`` markers that point to a passage given; drop the others."""
    cited: list[int] = []
    invalid: list[str] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= n_passages:
            if n not in cited:
                cited.append(n)
            return match.group(0)
        invalid.append(match.group(0))
        return ""

    cleaned = _MARKER.sub(keep, text)
    if invalid:
        # Close only the gaps the removed markers left (« texte [9]. » → « texte. »); the
        # writer's own spacing stays, French spaces before « ; : ! ? » included.
        cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
        cleaned = re.sub(r"[ \t]+([.,])", r"\1", cleaned)
    return CitationCheck(cleaned.strip(), tuple(cited), tuple(invalid))


@dataclass
class Grounded:
    """An answer reduced to its supported sentences, each carrying a citation."""

    text: str
    cited: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0


def ground_answer(
    text: str,
    passages: list[str],
    *,
    question: str = "",
    eligible: set[int] | None = None,
    min_support: float = 0.6,
    seen: set[str] | None = None,
) -> Grounded:
    """Keep sentences whose new content words a passage supports; cite that passage.

    A sentence citing ``[n]`` is checked against passage n first; a sentence with no
    marker gets the marker of the passage that supports it best. Repeated sentences
    (small models loop) are kept once; pass ``seen`` to share that memory across calls
    when grounding a stream sentence by sentence. Only ``eligible`` passages (1-based; default
    all) may support a sentence: a passage unrelated to the question supports nothing.
    """
    result = Grounded(text="")
    kept: list[str] = []
    seen = set() if seen is None else seen
    known = frozenset(content_stems(question))
    for raw in _SENTENCE_END.split(text.strip()):
        sentence = raw.strip()
        if not sentence:
            continue
        markers = [int(n) for n in _MARKER.findall(sentence)]
        bare = _MARKER.sub("", sentence).strip()
        key = " ".join(content_stems(bare))
        if not key or key in seen:
            continue
        seen.add(key)
        if problems(bare, known=[question, *passages]):
            result.removed.append(sentence)  # a loop, a cut sentence, a made-up word
            continue
        scores = [
            support(bare, passage, known=known) if eligible is None or n in eligible else 0.0
            for n, passage in enumerate(passages, start=1)
        ]
        best = max(range(len(passages)), key=scores.__getitem__) if passages else -1
        claimed = [n for n in markers if 1 <= n <= len(passages)]
        supported_by = [n for n in claimed if scores[n - 1] >= min_support]
        if supported_by:
            kept.append(sentence)
            cited = supported_by
        elif best >= 0 and scores[best] >= min_support:
            cited = [best + 1]
            kept.append(cite(_MARKER.sub("", sentence).rstrip(), best + 1))
        else:
            result.removed.append(sentence)
            continue
        for n in cited:
            if n not in result.cited:
                result.cited.append(n)
    result.text = " ".join(kept)
    result.kept = len(kept)
    return result


def cite(sentence: str, n: int) -> str:
    """Put the marker before the final punctuation: « ... mairie [2]. », and before a
    « ! » or « ? » with its space, as French writes them: « Attention [2] ! »"""
    if sentence and sentence[-1] in ".…":
        return f"{sentence[:-1].rstrip()} [{n}]{sentence[-1]}"
    if sentence and sentence[-1] in "!?":
        return f"{sentence[:-1].rstrip()} [{n}] {sentence[-1]}"
    return f"{sentence} [{n}]"


_MARKDOWN = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*+]\s+|^\s*\d+[.)]\s+)", re.M)
_UNIT_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")


def quote_passages(
    question: str, passages: list[str], *, eligible: set[int] | None = None, limit: int = 3
) -> tuple[str, list[int]]:
    """An answer made of the passage sentences that best match the question, verbatim.

    Used when nothing the model wrote is supported: quoting the source is grounded by
    construction. Only the best-ranked eligible passage is quoted: the retriever's ranking
    (title fields, fusion) says which document answers far better than the word overlap
    of single sentences does. Sentences keep their order so the quote reads naturally.
    """
    units: list[tuple[float, int, int, str]] = []
    ranked = [n for n in range(1, len(passages) + 1) if eligible is None or n in eligible]
    for n in ranked[:1]:
        passage = passages[n - 1]
        for position, raw in enumerate(_UNIT_SPLIT.split(passage)):
            unit = _MARKDOWN.sub("", raw).strip(" ;:")
            if 25 <= len(unit) <= 400:
                units.append((coverage(question, unit), n, position, unit))
    best = [u for u in sorted(units, key=lambda u: (-u[0], u[1], u[2]))[:limit] if u[0] > 0]
    if not best:
        return "", []
    best.sort(key=lambda u: (u[1], u[2]))
    lines = [cite(unit if unit[-1] in ".!?" else unit + ".", n) for _, n, _, unit in best]
    return "\n".join(lines), sorted({n for _, n, _, _ in best})


class SentenceSplitter:
    """Cuts a stream of tokens into sentences as they complete."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        parts = _SENTENCE_END.split(self._buffer)
        self._buffer = parts.pop()
        return [p for p in parts if p.strip()]

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        return [rest] if rest.strip() else []
