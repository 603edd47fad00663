"""The JSON API, version 1: thin routes over the services."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from corpora.models import Corpus
from corpora.repository import get_corpus, list_corpora
from review.models import Answer
from server.answering import AskError, Caller
from server.app_state import state_of
from server.deps import CurrentUser, DbSession, SessionId, Tr
from server.errors import ApiError
from server.permissions import Action, can
from server.schemas import AnswerOut, AskIn, CorporaOut, CorpusOut, ErrorOut, HealthOut, ReadyOut
from server.views import answer_out

router = APIRouter()
ERRORS = {
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
                kind=c.kind.value,  # type: ignore[arg-type]
                review_policy=c.review_policy.value,  # type: ignore[arg-type]
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
        return answer_out(stored, corpus_title=title, tr=tr)


@router.get(
    "/api/v1/answers/{answer_id}", response_model=AnswerOut, tags=["answers"], responses=ERRORS
)
def get_answer(answer_id: str, session: DbSession, user: CurrentUser, tr: Tr) -> AnswerOut:
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
    return answer_out(answer, corpus_title=corpus.title, tr=tr)
