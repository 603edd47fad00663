"""Do the documents cover the question? Decided before any model is asked.

The hard case is not a question on another subject (easy to turn away) but one on a
procedure the town does not document, which shares most of its words with pages it does:
« Combien coûte un permis de chasse ? » shares « combien », « coûte », « permis » with the
building-permit page. So the judgement weighs what the question is *specifically* about,
with two signals of the best units the passages offer:

- the lexical coverage: the largest share of the question's weight (each term counts by
  its idf in the corpus times its specificity in everyday French, ``review.extractive``)
  that one unit holds with its headings;
- the meaning: the largest cosine between the question and a unit with its headings.

The score is their weighted mean, in [0, 1]. Below ``decline_below`` the question is
declined; below ``weak_below`` the answer is flagged, so that a corpus with the
``flagged`` policy holds it for a person. Weights and thresholds belong to an embedder
(its cosines have their own scale) and are calibrated by the rules of docs/answers.md
(``scripts/calibrate_answers.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from review.extractive import Candidate
from review.policy import Thresholds


@dataclass(frozen=True)
class CoverageRule:
    """How much the meaning weighs against the lexical coverage, the thresholds, and the
    least score of the unit an answer is built around (``Candidate.score``, whose scale
    holds this embedder's cosines): below it the answer is flagged, the documents may
    cover the question but what the answer quotes says too little of it. A lead unit
    taken from another document than the best-ranked passage's has its own, higher floor
    (``stray_floor``): the search and the unit ranking disagree on where the answer is."""

    dense_weight: float
    thresholds: Thresholds
    lead_floor: float = 0.0
    stray_floor: float = 0.0

    def score(self, coverage: float, dense: float | None) -> float:
        if dense is None or self.dense_weight == 0:
            return coverage
        return (coverage + self.dense_weight * dense) / (1 + self.dense_weight)


# Calibrated for multilingual-e5-small (scripts/calibrate_answers.py, docs/answers.md).
RULES = {
    "multilingual-e5-small-q4": CoverageRule(
        10.0, Thresholds(0.784, 0.859), lead_floor=1.15, stray_floor=2.15
    ),
}
# Other embedders: lexical coverage alone, with thresholds from the same calibration
# (no floor for the lead: its score would lack the cosine it was calibrated with).
LEXICAL_ONLY = CoverageRule(0.0, Thresholds(0.26, 0.58))


def rule_for(embedder_name: str) -> CoverageRule:
    return RULES.get(embedder_name, LEXICAL_ONLY)


@dataclass(frozen=True)
class Judgement:
    """``covered``: answer (else decline); ``weak``: answer, but flag it for review."""

    covered: bool
    weak: bool
    score: float
    rule: CoverageRule = LEXICAL_ONLY  # judged by; its floors judge the composed answer


def judge(candidates: Sequence[Candidate], rule: CoverageRule) -> Judgement:
    """The judgement on the units the passages offer (none: nothing retrieved)."""
    if not candidates:
        return Judgement(covered=False, weak=False, score=0.0, rule=rule)
    coverage = max(c.coverage for c in candidates)
    cosines = [c.dense for c in candidates if c.dense is not None]
    score = rule.score(coverage, max(cosines) if cosines else None)
    return Judgement(
        covered=score >= rule.thresholds.decline_below,
        weak=score < rule.thresholds.weak_below,
        score=round(score, 4),
        rule=rule,
    )


def weak_lead(lead: Candidate, candidates: Sequence[Candidate], floor: float) -> bool:
    """Is the unit an answer is built around too weak to release the answer unchecked?
    Its score (``review.extractive``: the question's share it holds, its place, its
    meaning) is under ``floor``, and it is not the nearest in meaning of the question's
    units. The nearest usually scores far above the floor (its rescaled cosine adds
    ``DENSE_WEIGHT``); it is exempt for the cases where the rescaling gives it little:
    two units or fewer, or cosines all within ``MIN_DENSE_SPREAD`` of each other. The
    floor belongs to the score's constants too: changing them means calibrating again."""
    if lead.dense is None or lead.own_question:
        return False  # no cosine, or not chosen by its score: the floor does not apply
    nearest = max((c.dense for c in candidates if c.dense is not None), default=lead.dense)
    return lead.score < floor and lead.dense < nearest


def stray_lead(lead: Candidate, documents: Sequence[str], floor: float) -> bool:
    """Is the unit an answer is built around taken from another document than the
    best-ranked passage's (``documents``: each passage's document, in rank order), with a
    score under ``floor``? Most such answers quoted the wrong page (docs/answers.md)."""
    if lead.dense is None or lead.own_question or not documents:
        return False  # no cosine, or not chosen by its score: the floor does not apply
    return documents[lead.n - 1] != documents[0] and lead.score < floor
