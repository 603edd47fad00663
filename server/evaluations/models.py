"""Figures of `guichet eval` runs, kept for the transparency page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from database import Base, UTCDateTime, utcnow


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
