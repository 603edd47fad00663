"""The public « Transparence » page, and the open-data downloads it links to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from corpora.models import Corpus
from corpora.repository import get_corpus
from server import transparency
from server.app_state import state_of
from server.deps import CurrentUser, DbSession, Tr
from server.energy import EnergyRates, format_energy
from server.errors import ApiError
from server.i18n import Translator, catalog
from server.opendata import datasheet, export_verified, exportable, jsonl_lines
from server.pages import render
from server.permissions import Action, can
from server.schemas import ErrorOut

router = APIRouter()

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


def instance_url(request: Request) -> str:
    """This instance's public address: the ``public_url`` setting, else the request's."""
    configured = getattr(state_of(request).settings, "public_url", None)
    return str(configured or request.base_url).rstrip("/")


def _number(value: float, language: str, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\u202f" if language == "fr" else ",")
    return text.replace(".", ",") if language == "fr" else text


def presenters(tr: Translator) -> dict[str, Any]:
    """Formatting helpers the template calls (numbers, dates, shares, energy, labels)."""
    language = tr.language

    def percent(share: float | None) -> str:
        return tr("transparency.none") if share is None else f"{_number(share * 100, language)} %"

    def date(moment: datetime | None) -> str:
        if moment is None:
            return tr("transparency.none")
        return moment.astimezone().strftime("%d/%m/%Y" if language == "fr" else "%Y-%m-%d")

    def label(prefix: str, name: str) -> str:
        key = f"{prefix}.{name}"
        return tr(key) if key in catalog("fr") else name

    def figure_value(name: str, value: Any) -> str:
        if value is None:
            return tr("transparency.none")
        if name in SHARES and isinstance(value, int | float):
            return percent(float(value))
        if isinstance(value, float):
            return _number(value, language, 1)
        if isinstance(value, int) and not isinstance(value, bool):
            return _number(value, language)
        return str(value)

    return {
        "percent": percent,
        "date": date,
        "figure_label": lambda name: label("transparency.figure", name),
        "eval_kind": lambda kind: label("transparency.eval_kind", kind),
        "figure_value": figure_value,
        "energy": lambda wh: format_energy(wh, language),
        "number": lambda value: _number(value, language),
    }


@router.get("/transparence", response_class=HTMLResponse, include_in_schema=False)
def transparency_page(
    request: Request, session: DbSession, user: CurrentUser, tr: Tr
) -> HTMLResponse:
    """What answers, from which documents, how well, at what cost, and what is shared."""
    settings = state_of(request).settings
    rates = EnergyRates.from_settings(settings)
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
        contact=getattr(settings, "contact", None),
        **presenters(tr),
    )


DOWNLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown corpus, or its owners do not publish it"},
}


def _open_corpus(session: DbSession, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None or not exportable(session=session, corpus=corpus):
        raise ApiError(404, "not_open_data", corpus=name)
    return corpus


@router.get(
    "/transparence/export/{corpus}/verified.jsonl",
    tags=["open data"],
    response_class=Response,
    summary="Verified answers of a corpus, as open data (JSON Lines)",
    responses={
        200: {
            "description": "One verified answer per line: question, answer, cited sources "
            "(title, version, URL), approver's role, date, licence, provenance. Items touched "
            "by personal data are left out.",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **DOWNLOAD_ERRORS,
    },
)
def download_verified(corpus: str, request: Request, session: DbSession) -> Response:
    target = _open_corpus(session, corpus)
    result = export_verified(session=session, corpus=target, instance_url=instance_url(request))
    return Response(
        "".join(jsonl_lines(result.records)),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="guichet-{target.name}-verified.jsonl"',
            "X-Guichet-Refused": str(result.refused_total),
        },
    )


@router.get(
    "/transparence/export/{corpus}/datasheet.md",
    tags=["open data"],
    response_class=Response,
    summary="Datasheet of the open-data export of a corpus (Markdown)",
    responses={
        200: {
            "description": "What the export contains, how it was made, its format and known "
            "limits, its licence.",
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        },
        **DOWNLOAD_ERRORS,
    },
)
def download_datasheet(corpus: str, request: Request, session: DbSession, tr: Tr) -> Response:
    target = _open_corpus(session, corpus)
    base = instance_url(request)
    result = export_verified(session=session, corpus=target, instance_url=base)
    return Response(
        datasheet(corpus=target, result=result, instance_url=base, tr=tr),
        media_type="text/markdown; charset=utf-8",
    )
