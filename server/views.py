"""Stored objects turned into what callers see (shared by the API and the pages)."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from review.models import Answer, AnswerStatus
from server.energy import EnergyRates, energy_of_answer
from server.i18n import Translator
from server.schemas import AnswerOut, CitationOut
from server.views_reviews import verified_text

_MESSAGE_KEYS = {
    AnswerStatus.pending_review: "answer.pending",
    AnswerStatus.declined: "answer.declined",
    AnswerStatus.rejected: "answer.rejected",
}


def answer_out(
    answer: Answer, *, corpus_title: str, tr: Translator, energy: EnergyRates | None = None
) -> AnswerOut:
    """The asker's view: the text only once it may be seen."""
    visible = answer.status == AnswerStatus.released
    key = _MESSAGE_KEYS.get(answer.status)
    message = tr(key, corpus=corpus_title) if key else None
    if answer.status == AnswerStatus.rejected and answer.review and answer.review.reject_reason:
        message = tr("answer.rejected_with_reason", reason=answer.review.reject_reason)
    spent = energy_of_answer(answer, rates=energy, language=tr.language) if energy else None
    return AnswerOut(
        answer_id=answer.id,
        conversation_id=answer.conversation_id,
        status=answer.status.value,
        question=answer.question,
        answer=answer.text if visible else None,
        citations=[CitationOut(**_citation(c)) for c in answer.citations] if visible else [],
        message=message,
        energy_wh=spent.wh if spent and visible else None,
        energy_label=spent.label if spent and visible else None,
        verified=(
            verified_text(session=db, answer=answer, tr=tr)
            if visible and answer.verified_answer_id and (db := object_session(answer))
            else None
        ),
    )


def _citation(record: dict[str, object]) -> dict[str, object]:
    keys = ("n", "document_id", "title", "excerpt", "section", "page", "chunk_id")
    return {k: record[k] for k in keys if k in record and record[k] is not None}
