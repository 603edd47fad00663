"""HTML pages (Jinja2 + htmx): full pages, or only the partial for htmx requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from corpora.models import Corpus, CorpusKind
from corpora.repository import get_corpus, list_corpora
from review import answers as answer_repo
from review.feedback import record_feedback, request_human
from review.models import Answer
from server.answering import AskError, Caller
from server.app_state import energy_rates, state_of
from server.deps import CurrentUser, DbSession, SessionId, Tr
from server.errors import error_page
from server.i18n import LANGUAGES
from server.permissions import Action, can
from server.privacy import mask_personal_data
from server.streaming import answer_events
from server.views import answer_out

router = APIRouter(include_in_schema=False)


def render(
    request: Request, name: str, tr: Tr, status_code: int = 200, **context: Any
) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, name, {"t": tr, "lang": tr.language, **context}, status_code=status_code
    )


def _public_corpora(session: DbSession, user: CurrentUser) -> list[Corpus]:
    return [
        c
        for c in list_corpora(session=session)
        if can(session=session, user=user, action=Action.ask, corpus=c)
    ]


@router.get("/", response_class=HTMLResponse)
def chat_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    corpus: str | None = None,
) -> HTMLResponse:
    corpora = _public_corpora(session, user)
    chosen = next((c for c in corpora if c.name == corpus), None) or next(
        (c for c in corpora if c.kind == CorpusKind.procedures), corpora[0] if corpora else None
    )
    mine = answer_repo.answers_of(
        session=session, user_id=user.id if user else None, session_id=None if user else sid
    )
    titles = {c.id: c.title for c in corpora}
    history = [
        answer_out(a, corpus_title=titles.get(a.corpus_id, ""), tr=tr, energy=energy_rates(request))
        for a in reversed(mine)
        if a.corpus_id == (chosen.id if chosen else None)
    ]
    return render(request, "chat.html", tr, corpora=corpora, corpus=chosen, answers=history)


def _chat_input(
    request: Request, session: DbSession, user: CurrentUser, tr: Tr, corpus: str, question: str
) -> tuple[str, str] | Response:
    """(corpus title, question) when the question may be asked, else the error partial."""
    chosen = get_corpus(session=session, name=corpus)
    if chosen is None or not can(session=session, user=user, action=Action.ask, corpus=chosen):
        message = tr("error.unknown_corpus", corpus=corpus)
        return error_page(request, tr, status=404, message=message)
    question = question.strip()
    if not question or len(question) > 2000:
        message = tr("error.question_length")
        return error_page(request, tr, status=422, message=message)
    title = chosen.title
    session.close()
    return title, question


def _answer_html(request: Request, tr: Tr, answer_id: str, title: str) -> str:
    with state_of(request).sessions() as fresh:
        stored = fresh.get_one(Answer, answer_id)
        view = answer_out(stored, corpus_title=title, tr=tr, energy=energy_rates(request))
    template = request.app.state.templates.get_template("_answer.html")
    return template.render(request=request, t=tr, lang=tr.language, answer=view)


@router.post("/chat/ask", response_class=HTMLResponse)
async def chat_ask(
    request: Request,
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
    caller = Caller(user_id=user.id if user else None, session_id=None if user else sid)
    try:
        answer = await state_of(request).answers.ask(
            corpus=corpus, question=checked[1], conversation_id=None, caller=caller
        )
    except AskError as error:
        message = tr(f"error.{error.code}", corpus=corpus)
        return error_page(request, tr, status=404, message=message)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus}#answer-{answer.id}", status_code=303)
    return HTMLResponse(_answer_html(request, tr, answer.id, checked[0]))


@router.post("/chat/stream")
async def chat_stream(
    request: Request,
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
    title, text = checked
    events = answer_events(
        service=state_of(request).answers,
        corpus=corpus,
        question=text,
        conversation_id=conversation_id or None,
        caller=Caller(user_id=user.id if user else None, session_id=None if user else sid),
        final=lambda answer: _answer_html(request, tr, answer.id, title),
        error=lambda code: tr(f"error.{code}", corpus=corpus),
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _own_answer(session: DbSession, user: CurrentUser, sid: str, answer_id: str) -> Answer | None:
    answer = session.get(Answer, answer_id)
    if answer is None:
        return None
    conversation = answer.conversation
    if user is not None and conversation.user_id is not None:
        return answer if conversation.user_id == user.id else None
    return answer if conversation.user_id is None and conversation.session_id == sid else None


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
    answer = _own_answer(session, user, sid, answer_id)
    if answer is None:
        message = tr("error.unknown_answer")
        return error_page(request, tr, status=404, message=message)
    masked = mask_personal_data(comment.strip()).text if comment.strip() else None
    record_feedback(session=session, answer=answer, helpful=helpful, comment=masked)
    session.commit()
    return render(request, "_feedback_thanks.html", tr, helpful=helpful)


@router.post("/chat/answers/{answer_id}/human", response_class=HTMLResponse)
def chat_human(
    request: Request,
    answer_id: str,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
) -> Response:
    answer = _own_answer(session, user, sid, answer_id)
    if answer is None:
        message = tr("error.unknown_answer")
        return error_page(request, tr, status=404, message=message)
    request_human(session=session, answer=answer)
    session.commit()
    corpus = session.get_one(Corpus, answer.corpus_id)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus.name}#answer-{answer.id}", status_code=303)
    return render(
        request,
        "_answer.html",
        tr,
        answer=answer_out(answer, corpus_title=corpus.title, tr=tr, energy=energy_rates(request)),
    )


@router.get("/chat/answers/{answer_id}", response_class=HTMLResponse)
def chat_answer(
    request: Request, answer_id: str, session: DbSession, user: CurrentUser, sid: SessionId, tr: Tr
) -> HTMLResponse:
    """One answer as a partial: the page polls it while the answer waits for review."""
    answer = session.get(Answer, answer_id)
    owner_ok = answer is not None and (
        answer.conversation.user_id == (user.id if user else None)
        and (user is not None or answer.conversation.session_id == sid)
    )
    if answer is None or not owner_ok:
        return error_page(request, tr, status=404, message=tr("error.unknown_answer"))
    corpus = session.get_one(Corpus, answer.corpus_id)
    return render(
        request,
        "_answer.html",
        tr,
        answer=answer_out(answer, corpus_title=corpus.title, tr=tr, energy=energy_rates(request)),
    )


@router.get("/lang/{language}")
def switch_language(language: str, request: Request) -> RedirectResponse:
    target = request.headers.get("referer") or "/"
    if not target.startswith(str(request.base_url)):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie("guichet_lang", language, max_age=365 * 86400, samesite="lax")
    return response
