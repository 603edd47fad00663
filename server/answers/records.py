"""What is stored and shown of an answer besides its text: the passages it was given,
the engine's work, what retrieval found."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from retrieval.types import Passage
from review import answers as answer_repo
from review.models import Answer, AnswerStatus
from review.policy import PRIORITY, Reason, flag
from server.engine.client import Generation


def record_engine_use(answer: Answer, calls: list[Generation]) -> None:
    """Tokens of every engine call made for this answer (for the energy estimate)."""
    if calls:
        answer.prompt_tokens = sum(c.prompt_tokens for c in calls)
        answer.completion_tokens = sum(c.completion_tokens for c in calls)
        answer.model = calls[-1].model


def passage_record(n: int, passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "n": n,
        "document_id": int(chunk.document_id) if chunk.document_id.isdigit() else chunk.document_id,
        "chunk_id": chunk.chunk_id,
        "version": chunk.version,
        "title": chunk.title,
        "section": chunk.section,
        "page": chunk.page,
        "excerpt": chunk.text[:600],
        "text": chunk.text,
        "score": round(passage.score, 4),
    }


def sources_found(prepared: Any) -> dict[str, Any]:
    """What retrieval found, shown at once while the answer is composed: the sources and
    the key sentence of the best one, labelled as excerpts of the documents (the ``sources``
    event of the stream)."""
    best = prepared.candidates[0] if prepared.candidates else None
    return {
        "sources": [
            {
                "n": n,
                "document_id": record["document_id"],
                "chunk_id": record["chunk_id"],
                "title": record["title"],
                "section": record["section"],
            }
            for n, record in (
                (n, passage_record(n, p)) for n, p in enumerate(prepared.passages, start=1)
            )
        ],
        "excerpt": {"n": best.n, "text": best.unit.text} if best else None,
    }


def cited_titles(answer: Answer) -> tuple[str, ...]:
    """The titles of the documents ``answer`` cites: what its question turned out to be about."""
    return tuple(dict.fromkeys(c["title"] for c in answer.citations or [] if c.get("title")))


def passage_records(passages: list[Passage]) -> list[dict[str, Any]]:
    """The passages an answer was given, numbered as its citations are."""
    return [passage_record(n, p) for n, p in enumerate(passages, start=1)]


def queue_for_agent(
    *, session: Session, answer: Answer, query: str, passages: list[Passage], reason: Reason
) -> None:
    """The answer cannot be written now (engine down or refusing, a failure): keep the
    question with what was found, and queue it for a person."""
    answer.status = AnswerStatus.pending_review
    answer.search_query = query
    answer.passages = passage_records(passages)
    answer.reasons = [flag(reason)]
    answer_repo.enqueue(
        session=session, answer=answer, reasons=answer.reasons, priority=PRIORITY[reason]
    )
