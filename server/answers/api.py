"""The answers API: which corpora to ask, ask (at once or streamed), an answer, feedback,
asking a person. Thin routes over server/answers/service.py."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from review.access import AnswerAction, reachable_answer
from review.models import Answer
from server.answers import service
from server.answers.schemas import (
    AnswerOut,
    AskIn,
    CorporaOut,
    CorpusOut,
    FeedbackIn,
    FeedbackOut,
    HumanIn,
)
from server.answers.streaming import answer_events, event_stream
from server.deps import CurrentUser, DbSession, SessionId, State, Tr
from server.schemas import error_responses

router = APIRouter(prefix="/api/v1")
ERRORS = error_responses(
    {
        401: "Not signed in / invalid token",
        403: "Not allowed",
        404: "Not found",
        422: "Invalid request",
    }
)


@router.get("/corpora", response_model=CorporaOut, tags=["corpora"])
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
            for c in service.askable_corpora(session=session, user=user)
        ]
    )


@router.post("/ask", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
async def ask(
    body: AskIn, state: State, user: CurrentUser, session: DbSession, sid: SessionId, tr: Tr
) -> AnswerOut:
    """Ask a question; the answer is released, held for review, or declined."""
    service.askable_corpus(session=session, user=user, name=body.corpus)
    session.close()  # the pipeline opens its own sessions; this one is not held meanwhile
    answer = await state.answers.ask(
        corpus=body.corpus,
        question=body.question,
        conversation_id=body.conversation_id,
        caller=service.caller(user, sid),
    )
    with state.sessions() as fresh:
        return service.stored_answer_out(
            session=fresh, answer_id=answer.id, tr=tr, energy=state.energy_rates
        )


@router.post(
    "/ask/stream",
    response_class=EventSourceResponse,
    tags=["answers"],
    responses={
        **ERRORS,
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events: `started` {answer_id, conversation_id}; `sources` "
            "{sources: [{n, document_id, chunk_id, title, section}], excerpt: {n, text}} "
            "as soon as retrieval is done (excerpts of the documents, not yet the answer; "
            "not sent when every answer of the corpus is reviewed); `sentence` (a "
            "verified sentence, as it is written); then `done` (the stored answer, same "
            "shape as /ask) or `error` {code, message}.",
        },
    },
)
async def ask_stream(
    body: AskIn, state: State, user: CurrentUser, session: DbSession, sid: SessionId, tr: Tr
) -> EventSourceResponse:
    """Ask a question and receive the answer as server-sent events while it is written."""
    service.askable_corpus(session=session, user=user, name=body.corpus)
    session.close()

    def final(answer: Answer) -> dict[str, object]:
        with state.sessions() as fresh:
            view = service.stored_answer_out(
                session=fresh, answer_id=answer.id, tr=tr, energy=state.energy_rates
            )
            return view.model_dump(mode="json")

    return event_stream(
        answer_events(
            service=state.answers,
            corpus=body.corpus,
            question=body.question,
            conversation_id=body.conversation_id,
            caller=service.caller(user, sid),
            final=final,
            error=lambda code: {"code": code, "message": tr(f"error.{code}", corpus=body.corpus)},
        )
    )


@router.get("/answers/{answer_id}", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
def get_answer(
    answer_id: str, state: State, session: DbSession, user: CurrentUser, sid: SessionId, tr: Tr
) -> AnswerOut:
    """One answer; ``answer`` is null while it is held for review."""
    answer = reachable_answer(
        session=session, answer_id=answer_id, user=user, session_id=sid, action=AnswerAction.view
    )
    return service.stored_answer_out(
        session=session, answer_id=answer.id, tr=tr, energy=state.energy_rates
    )


@router.post(
    "/answers/{answer_id}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    tags=["answers"],
    responses=ERRORS,
)
def feedback(
    answer_id: str, body: FeedbackIn, session: DbSession, user: CurrentUser, sid: SessionId
) -> FeedbackOut:
    """Say whether an answer helped; "not helpful" sends it to the review queue."""
    answer = reachable_answer(
        session=session,
        answer_id=answer_id,
        user=user,
        session_id=sid,
        action=AnswerAction.feedback,
    )
    service.give_feedback(
        session=session, answer=answer, helpful=body.helpful, comment=body.comment
    )
    return FeedbackOut(answer_id=answer.id, helpful=body.helpful, queued=not body.helpful)


@router.post(
    "/answers/{answer_id}/human",
    response_model=AnswerOut,
    tags=["answers"],
    responses={**ERRORS, **error_responses({400: "The reply address is not valid"})},
)
def ask_a_human(
    answer_id: str,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    body: HumanIn | None = None,
) -> AnswerOut:
    """Ask for a person to answer: the question is queued for an agent or a teacher.
    ``email`` (when the instance sends e-mail): where to send the reply; kept only until
    it is sent."""
    answer = reachable_answer(
        session=session,
        answer_id=answer_id,
        user=user,
        session_id=sid,
        action=AnswerAction.escalate,
    )
    corpus = service.ask_a_person(
        session=session,
        answer=answer,
        settings=state.settings,
        reply_to=body.email if body else None,
        language=tr.language,
    )
    return service.answer_out(answer, corpus_title=corpus.title, tr=tr, energy=state.energy_rates)
