"""`guichet eval answers`: every question of a dataset through the real answer pipeline.

The dataset's documents are indexed into a corpus of their own; questions another
dataset answers (and this one does not) are mixed in as unanswerable ones, so the
decline / hold behaviour is measured on questions nobody tuned it to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import statistics
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import create_corpus, get_corpus
from database import Base, UTCDateTime, transaction, utcnow
from retrieval.eval import load_dataset
from review.models import Answer, AnswerStatus
from server.answering import Caller

log = logging.getLogger(__name__)
_MARKER = re.compile(r"\[(\d{1,3})\]")


class EvaluationRun(Base):
    """Figures of one `guichet eval` run, kept for the transparency page."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "retrieval" or "answers"
    dataset: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record_run(
    *, session: Session, kind: str, dataset: str, figures: dict[str, Any], model: str | None
) -> EvaluationRun:
    run = EvaluationRun(kind=kind, dataset=dataset, figures=figures, model=model)
    session.add(run)
    session.flush()
    return run


def latest_runs(*, session: Session) -> list[EvaluationRun]:
    """The newest run of each (kind, dataset)."""
    runs = session.scalars(select(EvaluationRun).order_by(EvaluationRun.created_at.desc()))
    latest: dict[tuple[str, str], EvaluationRun] = {}
    for run in runs:
        latest.setdefault((run.kind, run.dataset), run)
    return list(latest.values())


def corpus_name(dataset: Path) -> str:
    return "eval-" + "".join(c if c.isalnum() else "-" for c in dataset.resolve().name.lower())


def _questions(path: Path) -> list[dict[str, Any]]:
    with open(path / "questions.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pick(questions: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """Every n-th question so that a limit still spans the whole dataset."""
    if limit is None or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


async def evaluate_answers(
    *,
    state: Any,
    dataset: Path,
    limit: int | None,
    unanswerable_from: Path | None,
    n_unanswerable: int,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the questions through ``state.answers`` and measure what the asker gets."""
    corpus = corpus_name(dataset)
    with transaction(state.sessions) as session:
        if get_corpus(session=session, name=corpus) is None:
            create_corpus(
                session=session,
                name=corpus,
                title=dataset.name,
                kind=CorpusKind.procedures,
                review_policy=ReviewPolicy.flagged,
            )
    documents, questions = await asyncio.to_thread(load_dataset, dataset)
    await asyncio.to_thread(state.index.replace_documents, corpus=corpus, documents=documents)

    answerable = pick([q for q in questions if q.get("answerable", True)], limit)
    unanswerable = [q for q in questions if not q.get("answerable", True)]
    if unanswerable_from is not None:
        foreign = [q for q in _questions(unanswerable_from) if q.get("answerable", True)]
        unanswerable += [
            {**q, "answerable": False, "doc_ids": []} for q in pick(foreign, n_unanswerable)
        ]
    todo = [*answerable, *unanswerable]
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def run(question: dict[str, Any]) -> tuple[dict[str, Any], str]:
        nonlocal done
        async with gate:
            answer = await state.answers.ask(
                corpus=corpus,
                question=question["question"],
                conversation_id=None,
                caller=Caller(session_id=f"eval-{question['id']}"),
            )
        done += 1
        if progress:
            progress(done, len(todo))
        return question, answer.id

    results = await asyncio.gather(*(run(q) for q in todo))
    with state.sessions() as session:
        rows = [(q, session.get_one(Answer, answer_id)) for q, answer_id in results]
        return summarise(rows, model=state.settings.llm_model, dataset=dataset.name)


def summarise(
    rows: list[tuple[dict[str, Any], Answer]], *, model: str, dataset: str
) -> dict[str, Any]:
    answerable = [(q, a) for q, a in rows if q.get("answerable", True)]
    unanswerable = [(q, a) for q, a in rows if not q.get("answerable", True)]
    markers = valid = 0
    for _, answer in rows:
        found = [int(n) for n in _MARKER.findall(answer.draft or "")]
        markers += len(found)
        valid += sum(1 <= n <= len(answer.passages) for n in found)
    shown_markers = shown_valid = 0
    for _, answer in rows:
        found = [int(n) for n in _MARKER.findall(answer.text or "")]
        shown_markers += len(found)
        shown_valid += sum(1 <= n <= len(answer.passages) for n in found)

    def cites_gold(question: dict[str, Any], answer: Answer) -> bool:
        gold = set(question.get("doc_ids") or [])
        return any(str(c.get("document_id")) in gold for c in answer.citations)

    def share(items: list[Any], test: Callable[[Any], bool]) -> float | None:
        return round(sum(map(test, items)) / len(items), 4) if items else None

    held = (AnswerStatus.pending_review,)
    ttft = [a.ttft_ms for _, a in rows if a.ttft_ms is not None]
    total = [a.total_ms for _, a in rows if a.total_ms is not None]
    return {
        "dataset": dataset,
        "model": model,
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "citation_validity": round(valid / markers, 4) if markers else 1.0,
        "citation_validity_shown": round(shown_valid / shown_markers, 4) if shown_markers else 1.0,
        "markers": markers,
        "source_hit": share(
            answerable,
            lambda qa: qa[1].status in (AnswerStatus.released, *held) and cites_gold(*qa),
        ),
        "released_answerable": share(answerable, lambda qa: qa[1].status == AnswerStatus.released),
        "held_answerable": share(answerable, lambda qa: qa[1].status in held),
        "declined_answerable": share(answerable, lambda qa: qa[1].status == AnswerStatus.declined),
        "declined_or_held_unanswerable": share(
            unanswerable,
            lambda qa: qa[1].status in (AnswerStatus.declined, *held),
        ),
        "p50_ttft_ms": _percentile(ttft, 50),
        "p95_ttft_ms": _percentile(ttft, 95),
        "p50_total_ms": _percentile(total, 50),
    }
