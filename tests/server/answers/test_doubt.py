"""The weak-support flag on a composed answer: when Guichet doubts what it would release."""

from __future__ import annotations

import pytest

from corpora.models import ReviewPolicy
from retrieval.analysis import FrenchAnalyzer
from retrieval.types import Chunk, Passage
from retrieval.units import Unit, UnitKind
from review.coverage import RULES, CoverageRule, judge
from review.extractive import Candidate, Composition, Extractor
from review.policy import Thresholds
from server.answers.asking import CorpusFacts, Prepared
from server.answers.followups import FollowUps

ANALYZER = FrenchAnalyzer()
FOLLOWUPS = FollowUps(
    analyze=ANALYZER.analyze,
    content=lambda text: set(Extractor.content_terms(ANALYZER.analyze, text)),
)
QUESTION = "En quoi l'amidon est-il transformé pendant la digestion ?"
LEAD = "L'amidon est une grosse molécule présente dans le pain, les pâtes ou les pommes de terre."
OTHER = "L'amidon est transformé en glucose, les protéines en acides aminés."


def _passage(document: str, text: str, ordinal: int = 0) -> Passage:
    chunk = Chunk(f"{document}-{ordinal}", document, 1, ordinal, document, "", None, text)
    return Passage(chunk, 0.5, None, None)


def _doubt(
    rule: CoverageRule,
    *,
    lead_score: float,
    nearest: bool = False,
    stray: bool = False,
    second: bool = False,
) -> dict[str, str] | None:
    """The flag on an answer quoting ``LEAD`` (no passage cited: the follow-up check has
    no headings to read), the question judged by ``rule``. Unless ``nearest``, another
    unit of the passages is nearer the question in meaning. With ``stray``, the lead is
    of the second passage, another document than the best-ranked one; with ``second``, of
    the second passage, another part of the best-ranked document."""
    n = 2 if stray or second else 1
    lead = Candidate(n, Unit(LEAD, UnitKind.sentence, 0, 0), 0.5, 1.0, False, lead_score, dense=0.9)
    other = Candidate(1, Unit(OTHER, UnitKind.sentence, 1, 0), 0.7, 1.0, False, 1.0, dense=0.92)
    corpus = CorpusFacts(1, "cours", "Cours", ReviewPolicy.flagged, ())
    prepared = Prepared("a1", "c1", corpus, QUESTION, "fr", previous=None)
    document = "digestion" if second else "aliments"
    prepared.passages = [_passage("digestion", OTHER), _passage(document, LEAD, ordinal=1)]
    prepared.candidates = [lead] if nearest else [lead, other]
    prepared.judgement = judge(prepared.candidates, rule)
    composition = Composition(LEAD, [], lead, coverage=0.5)
    return prepared.doubt(composition, FOLLOWUPS, known=lambda term: True)


def test_an_answer_built_around_a_weak_lead_is_flagged() -> None:
    rule = CoverageRule(10.0, Thresholds(0.0, 0.0), lead_floor=1.15)

    assert _doubt(rule, lead_score=1.0) == {"code": "weak_support", "detail": "lead 1.00"}
    assert _doubt(rule, lead_score=1.6) is None


def test_the_unit_nearest_in_meaning_is_not_doubted_for_its_score() -> None:
    # Among a handful of units the cosine adds nothing to the score of the nearest.
    rule = CoverageRule(10.0, Thresholds(0.0, 0.0), lead_floor=1.15)

    assert _doubt(rule, lead_score=0.9, nearest=True) is None


def test_a_lead_from_another_page_than_the_best_ranked_has_a_higher_floor() -> None:
    rule = CoverageRule(10.0, Thresholds(0.0, 0.0), lead_floor=1.15, stray_floor=2.0)

    assert _doubt(rule, lead_score=1.6, stray=True) == {
        "code": "weak_support",
        "detail": "stray 1.60",
    }
    assert _doubt(rule, lead_score=1.6) is None  # the best-ranked page's own unit
    assert _doubt(rule, lead_score=1.6, second=True) is None  # another part of that page
    assert _doubt(rule, lead_score=2.2, stray=True) is None
    # The nearest unit in meaning is exempt from the lead floor, not from this one.
    assert _doubt(rule, lead_score=1.6, nearest=True, stray=True) == {
        "code": "weak_support",
        "detail": "stray 1.60",
    }


def test_without_a_calibrated_floor_the_lead_alone_never_flags() -> None:
    # Other embedders' scores lack the cosine the floor was calibrated with.
    rule = CoverageRule(0.0, Thresholds(0.0, 0.0))

    assert _doubt(rule, lead_score=0.3) is None


@pytest.mark.parametrize("name", sorted(RULES))
def test_the_calibrated_embedders_carry_their_floor(name: str) -> None:
    assert RULES[name].lead_floor > 0
