"""The JSON API, version 1: thin routes over the services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import text

from corpora.models import Corpus
from corpora.repository import get_corpus, list_corpora
from review.feedback import record_feedback, request_human
from review.models import Answer
from server.answering import AskError, Caller
from server.app_state import energy_rates, state_of
from server.deps import CurrentUser, DbSession, SessionId, Tr
from server.errors import ApiError
from server.permissions import Action, can
from server.privacy import mask_personal_data
from server.schemas import (
    AnswerOut,
    AskIn,
    CorporaOut,
    CorpusOut,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    ReadyOut,
)
from server.streaming import answer_events
from server.views import answer_out

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in / invalid token"},
    403: {"model": ErrorOut, "description": "Not allowed"},
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}


@router.get("/healthz", response_model=HealthOut, tags=["ops"])
async def healthz() -> HealthOut:
    """The process is alive."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    tags=["ops"],
    responses={503: {"model": ReadyOut, "description": "A part is down"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready only when the engine, the vector store and the database answer."""
    from anyio import to_thread

    state = state_of(request)

    def database() -> bool:
        try:
            with state.db.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "down"
            return False

    checks = {
        "engine": await state.llm.healthy(),
        "vector_store": await to_thread.run_sync(state.index.ping),
        "database": await to_thread.run_sync(database),
    }
    down = [name for name, ok in checks.items() if not ok]
    body = ReadyOut(status="unavailable" if down else "ready", checks=checks, down=down)
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)


@router.get("/api/v1/corpora", response_model=CorporaOut, tags=["corpora"])
def corpora(session: DbSession, user: CurrentUser) -> CorporaOut:
    """The corpora the caller may ask questions about."""
    return CorporaOut(
        corpora=[
            CorpusOut(
                name=c.name,
                title=c.title,
                kind=c.kind.value,
                review_policy=c.review_policy.value,
                language=c.language,
            )
            for c in list_corpora(session=session)
            if can(session=session, user=user, action=Action.ask, corpus=c)
        ]
    )


def _askable(session: DbSession, user: CurrentUser, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise ApiError(404, "unknown_corpus", corpus=name)
    if not can(session=session, user=user, action=Action.ask, corpus=corpus):
        raise ApiError(401 if user is None else 403, "forbidden_corpus")
    return corpus


@router.post("/api/v1/ask", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
async def ask(
    body: AskIn, request: Request, user: CurrentUser, session: DbSession, sid: SessionId, tr: Tr
) -> AnswerOut:
    """Ask a question; the answer is released, held for review, or declined."""
    corpus = _askable(session, user, body.corpus)
    title = corpus.title
    session.close()
    caller = Caller(user_id=user.id if user else None, session_id=None if user else sid)
    try:
        answer = await state_of(request).answers.ask(
            corpus=body.corpus,
            question=body.question,
            conversation_id=body.conversation_id,
            caller=caller,
        )
    except AskError as error:
        raise ApiError(404, error.code) from error
    with state_of(request).sessions() as fresh:
        stored = fresh.get_one(Answer, answer.id)
        return answer_out(stored, corpus_title=title, tr=tr, energy=energy_rates(request))


@router.post(
    "/api/v1/ask/stream",
    tags=["answers"],
    responses={
        **ERRORS,
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events: `started` {answer_id, conversation_id}, `sentence` "
            "(a verified sentence, as it is written), then `done` (the stored answer, "
            "same shape as /ask) or `error` {code, message}.",
        },
    },
)
async def ask_stream(
    body: AskIn, request: Request, user: CurrentUser, session: DbSession, sid: SessionId, tr: Tr
) -> StreamingResponse:
    """Ask a question and receive the answer as server-sent events while it is written."""
    corpus = _askable(session, user, body.corpus)
    title = corpus.title
    session.close()
    state = state_of(request)

    def final(answer: Answer) -> dict[str, object]:
        with state.sessions() as fresh:
            stored = fresh.get_one(Answer, answer.id)
            return answer_out(
                stored, corpus_title=title, tr=tr, energy=energy_rates(request)
            ).model_dump(mode="json")

    events = answer_events(
        service=state.answers,
        corpus=body.corpus,
        question=body.question,
        conversation_id=body.conversation_id,
        caller=Caller(user_id=user.id if user else None, session_id=None if user else sid),
        final=final,
        error=lambda code: {"code": code, "message": tr(f"error.{code}", corpus=body.corpus)},
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _visible_answer(session: DbSession, user: CurrentUser, sid: str, answer_id: str) -> Answer:
    """The caller's own answer (by account or citizen session), else 404."""
    answer = session.get(Answer, answer_id)
    if answer is None:
        raise ApiError(404, "unknown_answer")
    conversation = answer.conversation
    mine = (
        conversation.user_id == user.id
        if user is not None and conversation.user_id is not None
        else conversation.user_id is None and conversation.session_id == sid
    )
    if not mine:
        raise ApiError(404, "unknown_answer")
    return answer


@router.post(
    "/api/v1/answers/{answer_id}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    tags=["answers"],
    responses=ERRORS,
)
def feedback(
    answer_id: str, body: FeedbackIn, session: DbSession, user: CurrentUser, sid: SessionId
) -> FeedbackOut:
    """Say whether an answer helped; "not helpful" sends it to the review queue."""
    answer = _visible_answer(session, user, sid, answer_id)
    comment = mask_personal_data(body.comment).text if body.comment else None
    record_feedback(session=session, answer=answer, helpful=body.helpful, comment=comment)
    return FeedbackOut(answer_id=answer.id, helpful=body.helpful, queued=not body.helpful)


@router.post(
    "/api/v1/answers/{answer_id}/human",
    response_model=AnswerOut,
    tags=["answers"],
    responses=ERRORS,
)
def ask_a_human(
    answer_id: str, request: Request, session: DbSession, user: CurrentUser, sid: SessionId, tr: Tr
) -> AnswerOut:
    """Ask for a person to answer: the question is queued for an agent or a teacher."""
    answer = _visible_answer(session, user, sid, answer_id)
    request_human(session=session, answer=answer)
    corpus = session.get_one(Corpus, answer.corpus_id)
    return answer_out(answer, corpus_title=corpus.title, tr=tr, energy=energy_rates(request))


@router.get(
    "/api/v1/answers/{answer_id}", response_model=AnswerOut, tags=["answers"], responses=ERRORS
)
def get_answer(
    answer_id: str, request: Request, session: DbSession, user: CurrentUser, tr: Tr
) -> AnswerOut:
    """One answer; ``answer`` is null while it is held and the caller may not see it."""
    answer = session.get(Answer, answer_id)
    if answer is None:
        raise ApiError(404, "unknown_answer")
    corpus = session.get_one(Corpus, answer.corpus_id)
    if answer.conversation.user_id is not None and (
        user is None
        or (
            user.id != answer.conversation.user_id
            and not can(session=session, user=user, action=Action.review, corpus=corpus)
        )
    ):
        raise ApiError(404, "unknown_answer")
    return answer_out(answer, corpus_title=corpus.title, tr=tr, energy=energy_rates(request))
