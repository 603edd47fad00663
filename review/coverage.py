"""Do the documents cover the question? Decided before any model is asked.

The hard case is not a question on another subject (easy to turn away) but one on a
procedure the town does not document, which shares most of its words with pages it does:
« Combien coûte un permis de chasse ? » shares « combien », « coûte », « permis » with the
building-permit page. So the judgement weighs what the question is *specifically* about:
its terms count by their idf in the corpus (``review.extractive``), a term no document
holds counts fully against it, and the score is that of the best unit found — the share of
the question a single sentence (with its heading) answers, plus what its meaning adds.

Thresholds are calibrated by a rule written before looking at answers (docs/answers.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from review.extractive import Candidate
from review.policy import Thresholds


@dataclass(frozen=True)
class Judgement:
    """``covered``: answer (else decline); ``weak``: answer, but flag it for review."""

    covered: bool
    weak: bool
    score: float


def judge(best: Candidate | None, thresholds: Thresholds) -> Judgement:
    """The judgement on the best unit the passages offer (None: nothing retrieved)."""
    if best is None:
        return Judgement(covered=False, weak=False, score=0.0)
    score = best.coverage
    return Judgement(
        covered=score >= thresholds.decline_below,
        weak=score < thresholds.weak_below,
        score=round(score, 4),
    )
