"""The asker's pages (Jinja2 + htmx): the chat, an answer's partial, feedback, asking a
person, and « mes questions ». Whole pages, or only the partial for htmx requests; the
forms work without JavaScript (post, then redirect back)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.errors import AccountError, NotAllowed
from accounts.models import User
from corpora.hygiene import clean_text
from corpora.models import Corpus, CorpusKind
from corpora.repository import CorpusError
from review import answers as answer_repo
from review.access import AnswerAction, AnswerHidden, reachable_answer
from review.models import Answer
from server.answers import service
from server.answers.pipeline import AskError
from server.answers.streaming import answer_events, event_stream
from server.deps import CurrentUser, DbSession, SessionId, State, Tr
from server.errors import error_page
from server.i18n import Translator
from server.templating import render, render_fragment

router = APIRouter(include_in_schema=False)
# « Mes questions » entries in these states refresh by themselves.
POLL_STATUSES = ("pending_review", "generating")


def _hidden(request: Request, tr: Translator) -> HTMLResponse:
    return error_page(request, tr, status=404, message=tr("error.unknown_answer"))


def _reachable(
    session: DbSession, user: User | None, sid: str, answer_id: str, action: AnswerAction
) -> Answer | None:
    try:
        return reachable_answer(
            session=session, answer_id=answer_id, user=user, session_id=sid, action=action
        )
    except AnswerHidden:
        return None


@router.get("/", response_class=HTMLResponse)
def chat_page(
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    corpus: str | None = None,
) -> HTMLResponse:
    corpora = service.askable_corpora(session=session, user=user)
    chosen = next((c for c in corpora if c.name == corpus), None) or next(
        (c for c in corpora if c.kind == CorpusKind.procedures), corpora[0] if corpora else None
    )
    mine = answer_repo.answers_of(
        session=session, user_id=user.id if user else None, session_id=None if user else sid
    )
    history = [
        service.answer_out(a, corpus_title=chosen.title, tr=tr, energy=state.energy_rates)
        for a in reversed(mine)
        if chosen is not None and a.corpus_id == chosen.id
    ]
    return render(request, "chat.html", tr, corpora=corpora, corpus=chosen, answers=history)


def _chat_input(
    request: Request, session: DbSession, user: User | None, tr: Tr, corpus: str, question: str
) -> str | Response:
    """The question when it may be asked, else the error partial (courses stay unnamed)."""
    try:
        service.askable_corpus(session=session, user=user, name=corpus)
    except (CorpusError, NotAllowed):
        message = tr("error.unknown_corpus", corpus=corpus)
        return error_page(request, tr, status=404, message=message)
    question = clean_text(question).strip()
    if not question:
        return error_page(request, tr, status=422, message=tr("error.blank_question"))
    if len(question) > 2000:
        return error_page(request, tr, status=422, message=tr("error.question_length"))
    session.close()  # the pipeline opens its own sessions; this one is not held meanwhile
    return question


def _answer_html(request: Request, state: State, tr: Tr, answer_id: str) -> str:
    with state.sessions() as fresh:
        view = service.stored_answer_out(
            session=fresh, answer_id=answer_id, tr=tr, energy=state.energy_rates
        )
    return render_fragment(request, "_answer.html", tr, answer=view)


@router.post("/chat/ask", response_class=HTMLResponse)
async def chat_ask(
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    corpus: Annotated[str, Form()],
    question: Annotated[str, Form()] = "",
) -> Response:
    """The question form without JavaScript: answer, then back to the page."""
    checked = _chat_input(request, session, user, tr, corpus, question)
    if isinstance(checked, Response):
        return checked
    try:
        answer = await state.answers.ask(
            corpus=corpus, question=checked, conversation_id=None, caller=service.caller(user, sid)
        )
    except AskError as error:
        message = tr(f"error.{error.code}", corpus=corpus)
        return error_page(request, tr, status=404, message=message)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus}#answer-{answer.id}", status_code=303)
    return HTMLResponse(_answer_html(request, state, tr, answer.id))


@router.post("/chat/stream")
async def chat_stream(
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    corpus: Annotated[str, Form()],
    question: Annotated[str, Form()] = "",
    conversation_id: Annotated[str | None, Form()] = None,
) -> Response:
    """The question form with JavaScript: verified sentences as they come, then the answer."""
    checked = _chat_input(request, session, user, tr, corpus, question)
    if isinstance(checked, Response):
        return checked
    return event_stream(
        answer_events(
            service=state.answers,
            corpus=corpus,
            question=checked,
            conversation_id=conversation_id or None,
            caller=service.caller(user, sid),
            final=lambda answer: _answer_html(request, state, tr, answer.id),
            error=lambda code: tr(f"error.{code}", corpus=corpus),
        )
    )


@router.post("/chat/answers/{answer_id}/feedback", response_class=HTMLResponse)
def chat_feedback(
    request: Request,
    answer_id: str,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    helpful: Annotated[bool, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    answer = _reachable(session, user, sid, answer_id, AnswerAction.feedback)
    if answer is None:
        return _hidden(request, tr)
    service.give_feedback(session=session, answer=answer, helpful=helpful, comment=comment)
    session.commit()
    corpus = session.get_one(Corpus, answer.corpus_id)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus.name}#answer-{answer.id}", status_code=303)
    view = service.answer_out(answer, corpus_title=corpus.title, tr=tr)
    return render(request, "_feedback_given.html", tr, answer=view, focus_message=True)


@router.post("/chat/answers/{answer_id}/human", response_class=HTMLResponse)
def chat_human(
    request: Request,
    answer_id: str,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    answer = _reachable(session, user, sid, answer_id, AnswerAction.escalate)
    if answer is None:
        return _hidden(request, tr)
    try:
        corpus = service.ask_a_person(
            session=session,
            answer=answer,
            settings=state.settings,
            reply_to=email if user is None else None,
            language=tr.language,
        )
    except AccountError as error:  # a mistyped address: nothing queued, the form kept
        view = service.stored_answer_out(
            session=session, answer_id=answer.id, tr=tr, energy=state.energy_rates
        )
        return render(
            request,
            "_answer.html",
            tr,
            status_code=422,
            answer=view,
            reply_email=email,
            reply_error=tr(f"error.{error.code}"),
        )
    session.commit()
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus.name}#answer-{answer.id}", status_code=303)
    view = service.answer_out(answer, corpus_title=corpus.title, tr=tr, energy=state.energy_rates)
    return render(
        request,
        "_answer.html",
        tr,
        answer=view,
        reply_left=bool(email and not user),
        focus_message=True,
    )


@router.get("/chat/answers/{answer_id}", response_class=HTMLResponse)
def chat_answer(
    request: Request,
    answer_id: str,
    state: State,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
) -> HTMLResponse:
    """One answer as a partial: the page polls it while the answer waits for review."""
    answer = _reachable(session, user, sid, answer_id, AnswerAction.view)
    if answer is None:
        return _hidden(request, tr)
    view = service.stored_answer_out(
        session=session, answer_id=answer.id, tr=tr, energy=state.energy_rates
    )
    return render(request, "_answer.html", tr, answer=view)


# -- « mes questions » -----------------------------------------------------------------------


def _my_question(session: DbSession, answer: Answer, tr: Translator) -> dict[str, Any]:
    corpus = session.get_one(Corpus, answer.corpus_id)
    view = service.answer_out(answer, corpus_title=corpus.title, tr=tr)
    return {
        "answer": view,
        "corpus_title": corpus.title,
        "asked_on": tr.datetime(answer.created_at),
        "verified": view.verified,
    }


@router.get("/mes-questions", response_class=HTMLResponse)
def my_questions(
    request: Request, session: DbSession, user: CurrentUser, sid: SessionId, tr: Tr
) -> HTMLResponse:
    """The asker's questions and their states; pending ones refresh by themselves."""
    mine = answer_repo.answers_of(
        session=session, user_id=user.id if user else None, session_id=None if user else sid
    )
    entries = [_my_question(session, a, tr) for a in mine]
    return render(request, "my_questions.html", tr, entries=entries, poll_statuses=POLL_STATUSES)


@router.get("/mes-questions/{answer_id}", response_class=HTMLResponse)
def my_question(
    request: Request, answer_id: str, session: DbSession, user: CurrentUser, sid: SessionId, tr: Tr
) -> HTMLResponse:
    """One entry of « mes questions » (the page polls it while the answer is checked)."""
    answer = _reachable(session, user, sid, answer_id, AnswerAction.view)
    if answer is None:
        return _hidden(request, tr)
    return render(
        request,
        "_review_my_question.html",
        tr,
        entry=_my_question(session, answer, tr),
        poll_statuses=POLL_STATUSES,
    )
