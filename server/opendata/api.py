"""Open data downloads: a corpus's verified answers (JSON Lines) and their datasheet, for
the corpora whose owners publish them (linked from the transparency page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.deps import DbSession, State, Tr
from server.opendata.service import datasheet, export_verified, jsonl_lines, open_corpus
from server.schemas import error_responses
from server.settings import Settings

router = APIRouter()
DOWNLOAD_ERRORS = error_responses({404: "Unknown corpus, or its owners do not publish it"})


def instance_url(request: Request, settings: Settings) -> str:
    """This instance's public address: the ``public_url`` setting, else the request's."""
    return str(settings.public_url or request.base_url).rstrip("/")


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
def download_verified(corpus: str, request: Request, state: State, session: DbSession) -> Response:
    target = open_corpus(session=session, name=corpus)
    base = instance_url(request, state.settings)
    result = export_verified(session=session, corpus=target, instance_url=base)
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
def download_datasheet(
    corpus: str, request: Request, state: State, session: DbSession, tr: Tr
) -> Response:
    target = open_corpus(session=session, name=corpus)
    base = instance_url(request, state.settings)
    result = export_verified(session=session, corpus=target, instance_url=base)
    return Response(
        datasheet(corpus=target, result=result, instance_url=base, tr=tr),
        media_type="text/markdown; charset=utf-8",
    )
