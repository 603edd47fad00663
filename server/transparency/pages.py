"""The public « Transparence » page: model, corpora, evaluations, reviews, energy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accounts.permissions import Action, can
from server.answers.energy import format_energy
from server.deps import CurrentUser, DbSession, State, Tr
from server.i18n import Translator, catalog
from server.templating import render
from server.transparency import service as transparency

router = APIRouter(include_in_schema=False)

# Figures of an evaluation run that are shares (0 to 1), shown as percentages.
SHARES = {
    "source_hit",
    "citation_validity",
    "citation_validity_shown",
    "released_answerable",
    "held_answerable",
    "declined_answerable",
    "declined_or_held_unanswerable",
    "hit@1",
    "hit@5",
    "hit@k",
    "mrr",
}


def presenters(tr: Translator) -> dict[str, Any]:
    """Formatting helpers the template calls (numbers, dates, shares, energy, labels)."""
    language = tr.language

    def percent(share: float | None) -> str:
        return tr("transparency.none") if share is None else tr.percent(share)

    def date(moment: datetime | None) -> str:
        return tr("transparency.none") if moment is None else tr.date(moment)

    def label(prefix: str, name: str) -> str:
        key = f"{prefix}.{name}"
        return tr(key) if key in catalog("fr") else name

    def figure_value(name: str, value: Any) -> str:
        if value is None:
            return tr("transparency.none")
        if name in SHARES and isinstance(value, int | float):
            return percent(float(value))
        if isinstance(value, float):
            return tr.number(value, 1)
        if isinstance(value, int) and not isinstance(value, bool):
            return tr.number(value)
        return str(value)

    return {
        "percent": percent,
        "date": date,
        "figure_label": lambda name: label("transparency.figure", name),
        "eval_kind": lambda kind: label("transparency.eval_kind", kind),
        "figure_value": figure_value,
        "energy": lambda wh: format_energy(wh, language),
        "number": tr.number,
    }


@router.get("/transparence", response_class=HTMLResponse)
def transparency_page(
    request: Request, state: State, session: DbSession, user: CurrentUser, tr: Tr
) -> HTMLResponse:
    """What answers, from which documents, how well, at what cost, and what is shared."""
    settings = state.settings
    rates = state.energy_rates
    return render(
        request,
        "transparency.html",
        tr,
        model=transparency.model_info(settings),
        corpora=transparency.corpora_overview(
            session=session,
            readable=lambda c: can(
                session=session, user=user, action=Action.read_documents, corpus=c
            ),
        ),
        evaluations=transparency.evaluations(session=session),
        reviews=transparency.review_overview(session=session),
        energy_totals=transparency.energy_totals(session=session, rates=rates),
        contact=settings.contact,
        **presenters(tr),
    )
