"""What the transparency page shows, read from the database: no figure is typed in by hand.

Each function is a query over a ``Session`` (or the settings) returning plain dataclasses
the page renders as they are, so a test can compare the page with the same queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from corpora.models import Corpus, Document, DocumentVersion
from corpora.repository import list_corpora
from review.models import Answer, AnswerStatus, ReviewItem, ReviewState
from server.answers.energy import EnergyRates, energy_wh
from server.engine.models import PACKAGED_MODELS
from server.evaluations.models import EvaluationRun, latest_runs
from server.opendata.service import open_data_corpora
from server.settings import Settings


@dataclass(frozen=True)
class ModelInfo:
    """The model that writes the answers, as configured.

    For a model Guichet prepares itself, where its file comes from and the checksum it
    was checked against; for a model the administration serves on its own, what the
    settings say.
    """

    name: str
    licence: str
    host: str
    upstream: str | None = None
    provenance_key: str | None = None
    sha256: str | None = None


def model_info(settings: Settings) -> ModelInfo:
    packaged = PACKAGED_MODELS.get(settings.llm_model)
    return ModelInfo(
        name=settings.llm_model,
        licence=settings.model_licence,
        host=settings.model_host,
        upstream=packaged.upstream if packaged else None,
        provenance_key=packaged.provenance_key if packaged else None,
        sha256=packaged.sha256 if packaged else None,
    )


@dataclass(frozen=True)
class DocumentRow:
    """A document as search serves it: the version indexed and when it was."""

    id: int
    title: str
    filename: str
    version: int
    indexed_at: datetime | None
    source_url: str | None


@dataclass
class CorpusRow:
    name: str
    title: str
    kind: str
    review_policy: str
    licence: str | None
    open_data: bool
    # None when the visitor may not read this corpus's documents (a course).
    documents: list[DocumentRow] | None


def corpora_overview(*, session: Session, readable: Callable[[Corpus], bool]) -> list[CorpusRow]:
    """Every corpus with its review policy; documents only where ``readable`` says so."""
    opened = open_data_corpora(session=session)
    rows = []
    for corpus in list_corpora(session=session):
        rows.append(
            CorpusRow(
                name=corpus.name,
                title=corpus.title,
                kind=corpus.kind.value,
                review_policy=corpus.review_policy.value,
                licence=corpus.licence,
                open_data=corpus.id in opened,
                documents=indexed_documents(session=session, corpus_id=corpus.id)
                if readable(corpus)
                else None,
            )
        )
    return rows


def indexed_documents(*, session: Session, corpus_id: int) -> list[DocumentRow]:
    """The documents search serves for a corpus, with the version served."""
    query = (
        select(Document, DocumentVersion.indexed_at)
        .outerjoin(
            DocumentVersion,
            (DocumentVersion.document_id == Document.id)
            & (DocumentVersion.version == Document.indexed_version),
        )
        .where(
            Document.corpus_id == corpus_id,
            Document.deleted_at.is_(None),
            Document.indexed_version.is_not(None),
        )
        .order_by(Document.title, Document.filename)
    )
    return [
        DocumentRow(
            id=document.id,
            title=document.title or document.filename,
            filename=document.filename,
            version=document.indexed_version or 0,
            indexed_at=indexed_at,
            source_url=document.source_url,
        )
        for document, indexed_at in session.execute(query)
    ]


@dataclass
class ReviewFigures:
    """How answers fared: counts, and shares of answers (held) or of decisions (the rest).

    ``answers`` counts the answers given (anything past generation); ``held`` those sent to
    a person before the asker saw them or after feedback (a review item exists). Approved,
    edited (approved with a changed text: a subset of approved) and rejected are shares of
    the reviews decided.
    """

    label: str
    answers: int = 0
    held: int = 0
    waiting: int = 0
    approved: int = 0
    edited: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.approved + self.rejected

    @property
    def held_share(self) -> float | None:
        return self.held / self.answers if self.answers else None

    @property
    def approved_share(self) -> float | None:
        return self.approved / self.decided if self.decided else None

    @property
    def edited_share(self) -> float | None:
        return self.edited / self.decided if self.decided else None

    @property
    def rejected_share(self) -> float | None:
        return self.rejected / self.decided if self.decided else None


@dataclass
class ReviewOverview:
    total: ReviewFigures
    per_corpus: list[ReviewFigures] = field(default_factory=list)


def review_overview(*, session: Session) -> ReviewOverview:
    """Review figures per corpus and in total, counted by SQL (the page is public and
    may be hit often: aggregates, not every review item loaded as the dashboard does)."""
    titles = {c.id: c.title for c in list_corpora(session=session)}
    figures = {cid: ReviewFigures(title) for cid, title in titles.items()}
    answers = session.execute(
        select(Answer.corpus_id, func.count())
        .where(Answer.status != AnswerStatus.generating)
        .group_by(Answer.corpus_id)
    )
    for corpus_id, count in answers:
        figures[corpus_id].answers = count
    reviews = session.execute(
        select(
            ReviewItem.corpus_id,
            ReviewItem.state,
            func.count(),
            func.sum(case((ReviewItem.edited.is_(True), 1), else_=0)),
        ).group_by(ReviewItem.corpus_id, ReviewItem.state)
    )
    for corpus_id, state, count, edited in reviews:
        row = figures[corpus_id]
        row.held += count
        if state == ReviewState.approved:
            row.approved += count
            row.edited += int(edited or 0)
        elif state == ReviewState.rejected:
            row.rejected += count
        else:
            row.waiting += count
    total = ReviewFigures("")
    for row in figures.values():
        for name in ("answers", "held", "waiting", "approved", "edited", "rejected"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    per_corpus = sorted(
        (row for row in figures.values() if row.answers or row.held), key=lambda r: r.label
    )
    return ReviewOverview(total=total, per_corpus=per_corpus)


@dataclass(frozen=True)
class EnergyTotals:
    """Tokens of every generated answer and the energy they are estimated to have cost."""

    answers: int
    prompt_tokens: int
    completion_tokens: int
    wh: float
    rates: EnergyRates

    @property
    def wh_per_answer(self) -> float | None:
        return self.wh / self.answers if self.answers else None


def energy_totals(*, session: Session, rates: EnergyRates) -> EnergyTotals:
    """Summed over answers the model generated (verified reuse and declines cost none)."""
    generated = (Answer.prompt_tokens > 0) | (Answer.completion_tokens > 0)
    count, prompt, completion = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Answer.prompt_tokens), 0),
            func.coalesce(func.sum(Answer.completion_tokens), 0),
        ).where(generated)
    ).one()
    prompt, completion = int(prompt), int(completion)
    return EnergyTotals(
        answers=int(count),
        prompt_tokens=prompt,
        completion_tokens=completion,
        wh=energy_wh(prompt_tokens=prompt, completion_tokens=completion, rates=rates),
        rates=rates,
    )


# Figures of `guichet eval` shown first on the page, in this order, when a run has them.
MAIN_FIGURES = {
    "answers": (
        "n_answerable",
        "n_unanswerable",
        "source_hit",
        "citation_validity_shown",
        "released_answerable",
        "held_answerable",
        "declined_answerable",
        "declined_or_held_unanswerable",
        "p50_total_ms",
    ),
    "retrieval": ("n", "hit@1", "hit@5", "mrr", "p50_ms"),
}


@dataclass(frozen=True)
class EvaluationView:
    kind: str
    dataset: str
    model: str | None
    created_at: datetime
    figures: list[tuple[str, Any]]


def evaluations(*, session: Session) -> list[EvaluationView]:
    """The newest run of each (kind, dataset), its main figures first."""
    views = []
    runs: list[EvaluationRun] = sorted(
        latest_runs(session=session), key=lambda r: (r.kind, r.dataset)
    )
    for run in runs:
        main = [k for k in MAIN_FIGURES.get(run.kind, ()) if k in run.figures]
        shown = main or [
            k
            for k, v in run.figures.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        views.append(
            EvaluationView(
                kind=run.kind,
                dataset=run.dataset,
                model=run.model,
                created_at=run.created_at,
                figures=[(k, run.figures[k]) for k in shown],
            )
        )
    return views
