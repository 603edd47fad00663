"""The answers feature as the API and the pages share it: which corpus may be asked, what
the asker sees of an answer, feedback and asking a person.

Plain Python over a ``Session``: no FastAPI here. The answer pipeline itself (stand
alone, retrieve, compose or generate, check, decide) is ``server/answers/pipeline.py``; who
may reach an answer is :func:`review.access.can_access_answer`.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from accounts.errors import NotAllowed
from accounts.models import User
from accounts.permissions import Action, can
from corpora.models import Corpus, CorpusKind, Document
from corpora.repository import CorpusError, get_corpus, list_corpora
from review.feedback import feedback_of, record_feedback, request_human
from review.models import Answer, AnswerStatus, Feedback
from review.queue import OPEN_STATES
from review.verified import verified_label
from server.answers.energy import EnergyRates, energy_of_answer
from server.answers.pipeline import Caller
from server.answers.privacy import mask_personal_data
from server.answers.schemas import AnswerOut, CitationOut
from server.i18n import Translator
from server.notifications.service import keep_reply_address
from server.settings import Settings

_MESSAGE_KEYS = {
    AnswerStatus.pending_review: "answer.pending",
    AnswerStatus.declined: "answer.declined",
    AnswerStatus.rejected: "answer.rejected",
}


def reviewer_word(corpus: Corpus | None) -> Literal["agent", "teacher"]:
    """Who reviews answers of ``corpus``: « teacher » in a course, « agent » otherwise.

    Messages that name that person have a ``.teacher`` variant in the catalogs
    (:func:`worded`): a student is never told an agent checks their course.
    """
    return "teacher" if corpus is not None and corpus.kind == CorpusKind.course else "agent"


def worded(tr: Translator, key: str, reviewer: str, **values: object) -> str:
    """The message ``key`` in the words of the context (``key.teacher`` for a course)."""
    return tr(f"{key}.teacher" if reviewer == "teacher" else key, **values)


def caller(user: User | None, session_id: str) -> Caller:
    """Who asks: the account when signed in, else the anonymous browser session."""
    return Caller(user_id=user.id if user else None, session_id=None if user else session_id)


def askable_corpora(*, session: Session, user: User | None) -> list[Corpus]:
    """The corpora ``user`` (None: a citizen) may ask questions about."""
    return [
        c
        for c in list_corpora(session=session)
        if can(session=session, user=user, action=Action.ask, corpus=c)
    ]


def askable_corpus(*, session: Session, user: User | None, name: str) -> Corpus:
    """The corpus ``name`` when ``user`` may ask about it; else why not."""
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise CorpusError("unknown_corpus", corpus=name)
    if not can(session=session, user=user, action=Action.ask, corpus=corpus):
        raise NotAllowed("forbidden_corpus", signed_in=user is not None)
    return corpus


def answer_out(
    answer: Answer, *, corpus_title: str, tr: Translator, energy: EnergyRates | None = None
) -> AnswerOut:
    """The asker's view: the text only once it may be seen, in the words of its context.

    The energy estimate is shown only for text the model wrote: not once a reviewer has
    rewritten it, nor for a question a person answers after it was declined.
    """
    db = object_session(answer)
    reviewer = reviewer_word(db.get(Corpus, answer.corpus_id) if db else None)
    visible = answer.status == AnswerStatus.released
    review = answer.review
    key = _MESSAGE_KEYS.get(answer.status)
    if answer.status == AnswerStatus.pending_review and answer.human_requested:
        key = "answer.human_waiting"
    message = worded(tr, key, reviewer, corpus=corpus_title) if key else None
    if answer.status == AnswerStatus.rejected and review and review.reject_reason:
        message = worded(tr, "answer.rejected_with_reason", reviewer, reason=review.reject_reason)
    if visible and answer.human_requested and review and review.state in OPEN_STATES:
        message = worded(tr, "answer.human_looking", reviewer)
    by_model = not (review is not None and review.edited)
    spent = (
        energy_of_answer(answer, rates=energy, language=tr.language)
        if energy and by_model
        else None
    )
    given = feedback_of(session=db, answer_id=answer.id) if db and visible else None
    return AnswerOut(
        reviewed_by=reviewer,
        human_requested=answer.human_requested,
        feedback=None if given is None else ("helpful" if given.helpful else "not_helpful"),
        answer_id=answer.id,
        conversation_id=answer.conversation_id,
        status=answer.status.value,
        question=answer.question,
        answer=answer.text if visible else None,
        citations=_citations(answer) if visible else [],
        message=message,
        energy_wh=spent.wh if spent and visible else None,
        energy_label=spent.label if spent and visible else None,
        verified=(
            verified_text(session=db, answer=answer, tr=tr)
            if visible and answer.verified_answer_id and (db := object_session(answer))
            else None
        ),
    )


def stored_answer_out(
    *, session: Session, answer_id: str, tr: Translator, energy: EnergyRates | None
) -> AnswerOut:
    """:func:`answer_out` of an answer as stored now (after the pipeline's own sessions)."""
    answer = session.get_one(Answer, answer_id)
    corpus = session.get_one(Corpus, answer.corpus_id)
    return answer_out(answer, corpus_title=corpus.title, tr=tr, energy=energy)


def _citation(record: dict[str, object]) -> dict[str, object]:
    keys = ("n", "document_id", "title", "excerpt", "section", "page", "chunk_id")
    return {k: record[k] for k in keys if k in record and record[k] is not None}


def _citations(answer: Answer) -> list[CitationOut]:
    """The citations, each with the web address of its document when it has one (a page
    synced from a website): the title and that URL make the citation link."""
    records = [_citation(c) for c in answer.citations]
    ids = {int(str(r["document_id"])) for r in records if str(r.get("document_id", "")).isdigit()}
    urls: dict[int, str | None] = {}
    db = object_session(answer)
    if ids and db is not None:
        urls = dict(
            db.execute(select(Document.id, Document.source_url).where(Document.id.in_(ids))).all()
        )
    return [
        CitationOut(
            **r,
            url=urls.get(int(str(r["document_id"])))
            if str(r.get("document_id", "")).isdigit()
            else None,
        )
        for r in records
    ]


def give_feedback(
    *, session: Session, answer: Answer, helpful: bool, comment: str | None
) -> Feedback:
    """Keep what the asker said, personal data masked; "not helpful" queues the answer."""
    text = (comment or "").strip()
    masked = mask_personal_data(text).text if text else None
    return record_feedback(session=session, answer=answer, helpful=helpful, comment=masked)


def ask_a_person(
    *,
    session: Session,
    answer: Answer,
    settings: Settings,
    reply_to: str | None = None,
    language: str = "fr",
) -> Corpus:
    """Queue the question for an agent or a teacher; the answer's corpus, for the reply.

    ``reply_to``: an address the asker leaves for the reply (e-mail on only), checked
    before anything changes, so that a mistyped one loses nothing.
    """
    keep_reply_address(
        session=session, settings=settings, answer=answer, address=reply_to, language=language
    )
    request_human(session=session, answer=answer)
    return session.get_one(Corpus, answer.corpus_id)


def verified_text(*, session: Session, answer: Answer, tr: Translator) -> str | None:
    """« Réponse vérifiée par X (enseignant) le 21/11/2026 », or None for other answers."""
    label = verified_label(session=session, answer=answer)
    if label is None:
        return None
    role = tr(f"role.{label.approved_by_role}") if label.approved_by_role else ""
    who = label.approved_by_name or role
    if label.approved_by_name and role:
        who = f"{label.approved_by_name} ({role})"
    return tr("answer.verified", who=who, date=tr.date(label.approved_at))
