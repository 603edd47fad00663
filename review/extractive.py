"""Answers made of the documents' own sentences, chosen for the question.

A small model cannot be trusted to restate a fee or a deadline; a sentence of the
procedure can. The extractive answer is whole units of the retrieved passages (sentences,
list items with their lead-in, table rows with their headers), chosen by how much of what
the question is *specifically* about each one holds:

- every question term weighs its idf in the corpus, so « combien », « coûte », « mairie »
  count little and « passeport », « témoins » count a lot; interrogatives weigh nothing;
- a unit earns the terms it holds, and half of those only its title, section or lead-in
  hold (a fee row says « 42 € », its table says « passeport »);
- a number of the question in a range of the unit (« 16 ans » in « de 15 à 17 ans »,
  ``review.figures``) or that the unit repeats is a strong sign;
- a unit that gives the kind of answer asked (an amount for « combien », a date or a
  duration for « quand ») gets a small bonus;
- the first unit of a section (a FAQ entry answers its question in its opening sentence, a
  procedure states its rule first) gets a bonus when its passage opens the section.

A question that is a document's own question — its title says the same words and asks the
same kind of thing (« Gestion du personnel : que faire ? » asked of the FAQ entry of that
title) — is answered by the document's opening, in reading order: the entry answers it
there, and the score's pick among its sentences had quoted the entry's list of further
guides instead. Its headings then name all the question says: such an answer is never
doubted for its focus nor for its lead's score.

The composer then keeps the best unit, with the rest of its list or table when the question
asks for the list as a whole, and a neighbour sentence it depends on (« Elle est à régler
avant le 20 »). Units that are questions, headings or navigation never make an answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from retrieval.analysis import fold_accents, french_frequencies
from retrieval.types import SECTION_SEPARATOR
from retrieval.units import Unit, UnitKind, split_units
from review.figures import AMOUNT, ASKS_AMOUNT, ASKS_WHEN, WHEN, figures, number_match
from review.grounding import cite

# Words that ask rather than say what the question is about, and the prepositions and
# adverbs the standard stopword list keeps (« pendant », « avant ») that say nothing of it.
INTERROGATIVES = frozenset(
    """combien comment quand quel quelle quels quelles ou pourquoi qui quoi est-ce
    lequel laquelle lesquels lesquelles pendant avant apres depuis lors durant selon
    parmi malgre environ chaque plusieurs aussi encore deja toujours tres trop bien peu
    beaucoup ici""".split()
)
# A number of the question inside a range of the unit (« 16 ans » in « de 15 à 17 ans »)
# weighs as much as all the question's words: it is the case being asked about.
NUMBER_MATCH_BONUS = 1.0
# How the meaning of a unit and the rank of its passage add to its lexical score: chosen
# by the rule of scripts/calibrate_answers.py (docs/answers.md).
DENSE_WEIGHT = 2.0
FIRST_PASSAGE_BONUS = 0.0  # 0.25 until 3 December: the rule now prefers none
OPENING_BONUS = 0.5
MIN_DENSE_SPREAD = 0.03  # cosines of multilingual-e5: a few hundredths apart
# An answer holds the best unit and the next best ones, up to these bounds.
MAX_UNITS = 3
MIN_UNIT_CHARS = 12  # shorter units (« Oui. », « Coût ») say nothing alone
MAX_CHARS = 450
ANSWER_TYPE_BONUS = 0.05
CONTEXT_SHARE = 0.5
LIST_TIE = 0.02  # items of one list within this score of the best are one answer
# A title of fewer content words (« Le PACS ? ») is no question of its own to recognise,
# unless both ask what the one word means (``_DEFINES``).
MIN_OWN_QUESTION_TERMS = 2
MAX_LIST_UNITS = 8
_EXERCISES = re.compile(
    r"\b(questions? pour r[ée]viser|exercices?|entra[iî]ne[- ]toi|quiz)\b", re.I
)
_ANAPHORA = re.compile(r"^(il|elle|ils|elles|ce|cet|cette|ces|celui|celle|cela|ça)\b", re.I)
# What kind of answer a question, or a heading phrased as one (« Qui est concerné ? »),
# asks for: the interrogative opening its last clause (« Mon bébé est né mardi, jusqu'à
# quand… ? », « Vidéosurveillance : qui peut… ? »), so that a relative « qui » or « où »
# and a « quand » meaning « when, if » (« Que faire quand on perd… ? ») ask nothing;
# « combien » and « pourquoi », which only ask, anywhere in it (« c combien… ? »).
# « Comment » and « quel » are left out: a « how » is answered by who, where or when as
# well, and « quel » by anything. An unaccented « ou » is « or »: it never asks. A dash
# parts clauses too: a follow-up rewritten by rule reads « cantine — cantine — Quand… ? ».
_LAST_CLAUSE = re.compile(r"[:,;—]")
_ASKS = re.compile(
    r"^(?:jusqu['’]\s*(?:à|a)\s+|à\s+partir\s+de\s+|depuis\s+|d['’]|(?:à|a|de|par|pour"
    r"|avec|chez)\s+)?(qui|quand|où)\b|\b(combien|pourquoi)\b",
    re.I,
)
_BROAD_HEADING = re.compile(r"\bcomment\b", re.I)
# A definition asked: « C'est quoi les cookies ? », « Un cookie : qu'est-ce que c'est ? ».
_DEFINES = re.compile(
    r"\bc['’]est\s+quoi\b|\bqu['’]est[- ]ce\s+qu|\bque\s+(?:signifie|veut\s+dire)\b", re.I
)


@dataclass(frozen=True)
class SourcePassage:
    """What the composer needs of a retrieved passage; ``n`` is its marker number."""

    n: int
    title: str
    section: str
    text: str
    opens_section: bool = False  # the passage is the beginning of its section


@dataclass
class Candidate:
    """A unit of a passage, scored for the question."""

    n: int
    unit: Unit
    held: float  # share of the question's weight the unit itself holds
    covered: float  # share held by the unit or its context (title, section, lead-in)
    number_match: bool
    score: float  # how well it answers, to rank units against each other
    siblings: list[Unit] = field(default_factory=list)
    dense: float | None = None  # cosine of the unit (with its context) and the question
    other_case: bool = False  # states ranges that hold none of the question's numbers
    other_kind: bool = False  # under a heading asking another kind of question
    own_question: bool = False  # in the opening of a document titled with the question
    speaks: bool = True  # the unit or its lead-in holds a word or number of the question
    # What the coverage of a composed answer is computed from (shared by the question's
    # candidates): the question's weights by root, the unit's roots with its context.
    weights: dict[str, float] = field(default_factory=dict, repr=False)
    roots: frozenset[str] = frozenset()

    @property
    def coverage(self) -> float:
        """How much of the question this unit answers, comparable across questions."""
        return self.covered


@dataclass
class Composition:
    """The answer text (units with their markers), the passages it cites, and the
    candidate it was built around."""

    text: str
    cited: list[int]
    best: Candidate | None
    # Share of what the question is about that the answer with its headings says: an
    # answer that does not name the question's subject is held (docs/answers.md).
    coverage: float = 0.0

    def lead(self) -> Composition:
        """The best unit alone (with its lead-in line): what a generated answer opens with."""
        lines = self.text.splitlines()
        if not lines or self.best is None:
            return self
        first = lines[:2] if lines[0].endswith(":") and len(lines) > 1 else lines[:1]
        return Composition("\n".join(first), [self.best.n], self.best, self.coverage)


Weights = Callable[[str], dict[str, tuple[float, bool]]]  # term: (idf, in the corpus)
Similarity = Callable[[str, list[str]], list[float]]


class Extractor:
    """Scores passage units for a question and composes the answer from the best ones.

    ``analyze`` is the lexical analyser of the index (so terms compare as search does);
    ``weights`` gives each analysed term of a text its idf in the corpus.
    """

    def __init__(
        self,
        *,
        analyze: Callable[[str], Sequence[str]],
        weights: Weights,
        similarity: Similarity | None = None,
    ) -> None:
        self._analyze = analyze
        self._weights = weights
        self._similarity = similarity

    @staticmethod
    def content_terms(analyze: Callable[[str], Sequence[str]], text: str) -> list[str]:
        """The analysed terms of ``text`` that say what it is about (no interrogatives)."""
        interrogative = _interrogative_terms(analyze)
        return [t for t in analyze(text) if t not in interrogative]

    def question_weights(self, question: str) -> dict[str, float]:
        """The question's content terms and how much each says about its subject: its idf
        in the corpus times its specificity in everyday French (``specificity``)."""
        interrogative = _interrogative_terms(self._analyze)
        idf = self._weights(question)
        weights: dict[str, float] = {}
        for word in _WORDS.findall(question):
            if word.isdigit():
                continue  # numbers are matched as numbers (ranges), not as words
            for term in self._analyze(word):
                if term in idf and term not in interrogative:
                    value, in_corpus = idf[term]
                    value *= specificity(word, in_corpus=in_corpus)
                    weights[term] = max(weights.get(term, 0.0), value)
        return weights

    def candidates(self, question: str, passages: Sequence[SourcePassage]) -> list[Candidate]:
        """Every quotable unit of ``passages``, best first."""
        weights: dict[str, float] = {}
        for term, weight in self.question_weights(question).items():
            weights[_root(term)] = max(weights.get(_root(term), 0.0), weight)
        total = sum(weights.values())
        numbers = figures(question)
        asks_amount = bool(ASKS_AMOUNT.search(question))
        asks_when = bool(ASKS_WHEN.search(question))
        kind = asked_kind(question)
        asked = set(self.content_terms(self._analyze, question))
        asks = _asks(question)
        defines = bool(_DEFINES.search(question))
        found: list[Candidate] = []
        for passage in passages:
            if _EXERCISES.search(f"{passage.title} > {passage.section}"):
                continue  # a lesson's revision questions never answer
            units = split_units(passage.text)
            own_question = (
                passage.opens_section
                and not passage.section
                and (
                    len(asked) >= MIN_OWN_QUESTION_TERMS
                    or (len(asked) == 1 and defines and bool(_DEFINES.search(passage.title)))
                )
                and set(self.content_terms(self._analyze, passage.title)) == asked
                and _asks(passage.title) == asks  # « quand informer ? » ≠ « comment informer ? »
            )
            heading_terms = _roots(self._analyze(f"{passage.title} {passage.section}"))
            opening = passage.opens_section
            heading = (passage.section or passage.title).rsplit(SECTION_SEPARATOR, 1)[-1]
            heading_kind = asked_kind(heading) if heading.strip().endswith("?") else frozenset()
            if _BROAD_HEADING.search(heading):
                heading_kind = frozenset()  # « Où et comment faire la demande ? »: any kind
            other_kind = bool(kind and heading_kind) and not kind & heading_kind
            for unit in units:
                if not unit.quotable or len(unit.text) < MIN_UNIT_CHARS:
                    continue
                own = _roots(self._analyze(unit.text))
                lead = _roots(self._analyze(unit.lead))
                context = heading_terms | lead
                held = sum(w for t, w in weights.items() if t in own)
                covered = sum(w for t, w in weights.items() if t in own or t in context)
                share_held = held / total if total else 0.0
                share_covered = covered / total if total else 0.0
                match = number_match(numbers, unit.text)
                score = share_held + CONTEXT_SHARE * (share_covered - share_held)
                if match is True:
                    score += NUMBER_MATCH_BONUS
                elif match == "repeated":
                    score += NUMBER_MATCH_BONUS / 2  # « 10 ans » of age or of validity?
                if passage.n == 1:
                    score += FIRST_PASSAGE_BONUS
                if opening:
                    score += OPENING_BONUS
                    opening = False  # only the first quotable unit of the section
                if (asks_amount and AMOUNT.search(unit.text)) or (
                    asks_when and WHEN.search(unit.text)
                ):
                    score += ANSWER_TYPE_BONUS
                siblings = [u for u in units if u.block == unit.block and u.kind == unit.kind]
                found.append(
                    Candidate(
                        passage.n,
                        unit,
                        share_held,
                        share_covered,
                        match in (True, "repeated"),
                        score,
                        siblings,
                        other_case=match is False,
                        other_kind=other_kind,
                        own_question=own_question,
                        speaks=match in (True, "repeated")
                        or any(t in own or t in lead for t in weights),
                        weights=weights,
                        roots=frozenset(own | context),
                    )
                )
        if self._similarity is not None and found:
            texts = [_with_context(passages, c) for c in found]
            for candidate, cosine in zip(found, self._similarity(question, texts), strict=True):
                candidate.dense = cosine
            _add_dense(found)
        # Ties go to the better-ranked passage, then to reading order.
        # A unit about another case (a range without the question's number) comes last,
        # and one that holds none of the question's words (neither itself nor its lead-in)
        # never leads while another does: bonuses for its place and its meaning made a
        # lesson's « SVT — Classe de 5e. » lead an answer about how a fish breathes.
        # Before that, a unit under a heading asking another kind of question (« Qui est
        # concerné ? » for a « quand ») comes after every unit that is not, even one
        # holding none of the question's words: measured, the other order answered
        # « c combien la cantine pour mon gamin ? » with who may eat at the canteen, not
        # with the price table (which names neither « cantine » nor « gamin »).
        # A document's own question puts its opening first, in reading order.
        says_something = any(c.speaks for c in found)
        found.sort(
            key=lambda c: (
                not c.own_question,
                (c.n, c.unit.position) if c.own_question else (0, 0),
                c.other_case,
                c.other_kind,
                says_something and not c.speaks,
                -c.score,
                c.n,
                c.unit.position,
            )
        )
        return found

    def compose(
        self, candidates: Sequence[Candidate], best: Candidate | None = None
    ) -> Composition:
        """The answer: the best unit (default: the first candidate) with the rest of its
        list when the list answers as a whole, then the next best units while the answer
        stays short; each unit cited, in reading order."""
        if not candidates and best is None:
            return Composition("", [], None)
        best = best or candidates[0]
        if best.own_question and candidates and best.n == candidates[0].n:
            return _opening(best, candidates)
        chosen = [(best.n, unit) for unit in _around(best, candidates)]
        if best.number_match:
            # The row or item holding the question's number answers; its siblings are
            # other cases (another age, another income), not more of the answer.
            excluded = {id(u) for u in best.siblings}
        else:
            excluded = set()
        for candidate in candidates:
            if len(chosen) >= MAX_UNITS:
                break
            if candidate.n != best.n:
                continue  # one source reads as one answer
            unit = candidate.unit
            if (
                id(unit) in excluded
                or any(u.text == unit.text for _, u in chosen)
                or candidate.other_case
            ):
                continue
            added = [(candidate.n, u) for u in _around(candidate, candidates, single=True)]
            length = sum(len(u.text) for _, u in chosen + added)
            if length > MAX_CHARS:
                continue
            chosen += [pair for pair in added if pair not in chosen]
        chosen.sort(key=lambda pair: (pair[0], pair[1].position))
        return _composition(chosen, best, candidates)


def _opening(best: Candidate, candidates: Sequence[Candidate]) -> Composition:
    """A document's own question answered by its opening: its first units in reading
    order, within the answer's bounds."""
    chosen: list[tuple[int, Unit]] = []
    for candidate in candidates:
        if not candidate.own_question or candidate.n != best.n:
            break  # the opening's units come first, in reading order
        length = sum(len(u.text) for _, u in chosen) + len(candidate.unit.text)
        if chosen and (len(chosen) >= MAX_UNITS or length > MAX_CHARS):
            break
        chosen.append((best.n, candidate.unit))
    return _composition(chosen, best, candidates)


def _composition(
    chosen: list[tuple[int, Unit]], best: Candidate, candidates: Sequence[Candidate]
) -> Composition:
    """The chosen units rendered, with the passages cited and the share of the question
    they say (with their headings)."""
    cited = list(dict.fromkeys(n for n, _ in chosen))
    said = {u.text for _, u in chosen}
    roots = frozenset().union(*(c.roots for c in candidates if c.unit.text in said))
    total = sum(best.weights.values())
    coverage = sum(w for t, w in best.weights.items() if t in roots) / total if total else 0.0
    return Composition(_render(chosen), cited, best, coverage)


def _around(
    best: Candidate, candidates: Sequence[Candidate], *, single: bool = False
) -> list[Unit]:
    """The unit with what it needs to be read: the rest of its list when the list answers
    as a whole, or the sentence before when it opens with « Elle », « Ce »…"""
    unit = best.unit
    if unit.kind in (UnitKind.item, UnitKind.row) and not best.number_match and not single:
        # The list answers as a whole when its context covers the question as much for
        # every item as for the best one (« Pièces à fournir » of the PACS).
        tied = [
            c.unit
            for c in candidates
            if c.n == best.n
            and c.unit in best.siblings
            and best.covered > 0
            and c.covered >= best.covered - LIST_TIE
        ]
        if len(tied) > 1:
            return sorted(tied, key=lambda u: u.position)[:MAX_LIST_UNITS]
    if unit.kind == UnitKind.sentence and _ANAPHORA.match(unit.text):
        before = [u for u in best.siblings if u.position == unit.position - 1]
        return [*before, unit]
    return [unit]


_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
# Everyday-French frequency (log10 of the count) at which a word stops saying anything
# specific (« faut », « demande », « combien ») and below which it is fully specific.
GENERIC_LOG_FREQUENCY = 5.5
SPECIFIC_LOG_FREQUENCY = 3.5
UNKNOWN_WORD_SPECIFICITY = 0.25


def specificity(word: str, *, in_corpus: bool) -> float:
    """How much a word of the question says about its subject, from everyday French.

    Common words (« faut », « demande ») say little even when the corpus rarely uses them;
    a word of neither French nor the corpus is a typo or slang (« didentité », « koi »):
    it weighs little rather than count against the question.
    """
    count = french_frequencies().get(fold_accents(word.lower()))
    if count is None:
        return 1.0 if in_corpus else UNKNOWN_WORD_SPECIFICITY
    level = math.log10(count + 1)
    span = GENERIC_LOG_FREQUENCY - SPECIFIC_LOG_FREQUENCY
    return min(1.0, max(0.2, (GENERIC_LOG_FREQUENCY - level) / span))


# Stems compared on their first letters: the French stemmer leaves « inscrire »,
# « inscription » and « inscrit » apart (inscrir, inscript, inscrit), as « déclarer » and
# « déclaration ». Six letters join such families and rarely join two words.
ROOT_LENGTH = 6


def _root(term: str) -> str:
    return term[:ROOT_LENGTH]


def _roots(terms: Sequence[str]) -> set[str]:
    return {_root(t) for t in terms}


_INTERROGATIVE_CACHE: dict[int, frozenset[str]] = {}


def _asks(text: str) -> tuple[frozenset[str], bool, bool]:
    """What ``text`` asks for: its kind (``asked_kind``), an amount, a date."""
    return asked_kind(text), bool(ASKS_AMOUNT.search(text)), bool(ASKS_WHEN.search(text))


def asked_kind(text: str) -> frozenset[str]:
    """The kind of answer ``text`` asks for (``_ASKS``): « quand » for a date, « qui »…;
    empty when it asks none of them."""
    match = _ASKS.search(_LAST_CLAUSE.split(text)[-1].strip())
    return frozenset({(match.group(1) or match.group(2)).lower()}) if match else frozenset()


def _interrogative_terms(analyze: Callable[[str], Sequence[str]]) -> frozenset[str]:
    key = id(analyze)
    if key not in _INTERROGATIVE_CACHE:
        _INTERROGATIVE_CACHE[key] = frozenset(t for w in INTERROGATIVES for t in analyze(w))
    return _INTERROGATIVE_CACHE[key]


def _with_context(passages: Sequence[SourcePassage], candidate: Candidate) -> str:
    passage = next(p for p in passages if p.n == candidate.n)
    return _in_context(passage.title, passage.section, candidate.unit)


def _in_context(title: str, section: str, unit: Unit) -> str:
    """What the embedder compares with the question: the unit under its headings."""
    head = " — ".join(part for part in (title, section) if part)
    return f"{head}\n{unit.lead} {unit.text}".strip()


def comparable_texts(title: str, section: str, text: str) -> list[str]:
    """The texts of a passage that :meth:`Extractor.candidates` compares with questions,
    so that they can be embedded ahead of them (when a document goes live)."""
    if _EXERCISES.search(f"{title} > {section}"):
        return []
    return [
        _in_context(title, section, unit)
        for unit in split_units(text)
        if unit.quotable and len(unit.text) >= MIN_UNIT_CHARS
    ]


def _add_dense(candidates: list[Candidate]) -> None:
    """Add the meaning of each unit to its score: its cosine rescaled between the median
    and the best cosine of this question's units (an embedder's cosines are compressed,
    and only their order among one question's units means much)."""
    cosines = sorted(c.dense for c in candidates if c.dense is not None)
    if not cosines:
        return
    floor, top = cosines[len(cosines) // 2], cosines[-1]
    # When every unit is about as close as the others, their small differences are noise:
    # never stretch a spread narrower than this to the full scale.
    spread = max(top - floor, MIN_DENSE_SPREAD)
    for c in candidates:
        if c.dense is not None and spread > 0:
            c.score += DENSE_WEIGHT * max(0.0, (c.dense - floor) / spread)


def _render(chosen: list[tuple[int, Unit]]) -> str:
    """Units as the asker reads them: each list or table, or a sentence introduced by a
    lead-in line, under that line once; one unit per line, each with the marker of its
    passage, list items and rows bulleted."""
    lines: list[str] = []
    leads_shown: set[tuple[int, str]] = set()
    for n, unit in chosen:
        if unit.lead and (n, unit.lead) not in leads_shown:
            lines.append(unit.lead)
            leads_shown.add((n, unit.lead))
        text = unit.text.rstrip(" ;,")
        if text[-1] not in ".!?…":
            text += "."
        bullet = "- " if unit.kind in (UnitKind.item, UnitKind.row) else ""
        lines.append(f"{bullet}{cite(text, n)}")
    return "\n".join(lines)
