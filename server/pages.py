"""HTML pages (Jinja2 + htmx): full pages, or only the partial for htmx requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from corpora.models import Corpus, CorpusKind
from corpora.repository import get_corpus, list_corpora
from review import answers as answer_repo
from review.models import Answer
from server.answering import AskError, Caller
from server.app_state import state_of
from server.deps import CurrentUser, DbSession, SessionId, Tr
from server.i18n import LANGUAGES
from server.permissions import Action, can
from server.views import answer_out

router = APIRouter(include_in_schema=False)


def render(
    request: Request, name: str, tr: Tr, status_code: int = 200, **context: Any
) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
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
        answer_out(a, corpus_title=titles.get(a.corpus_id, ""), tr=tr)
        for a in reversed(mine)
        if a.corpus_id == (chosen.id if chosen else None)
    ]
    return render(request, "chat.html", tr, corpora=corpora, corpus=chosen, answers=history)


@router.post("/chat/ask", response_class=HTMLResponse)
async def chat_ask(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    sid: SessionId,
    tr: Tr,
    corpus: str = Form(...),
    question: str = Form(""),
) -> Response:
    chosen = get_corpus(session=session, name=corpus)
    if chosen is None or not can(session=session, user=user, action=Action.ask, corpus=chosen):
        return render(
            request,
            "_error.html",
            tr,
            status_code=404,
            message=tr("error.unknown_corpus", corpus=corpus),
        )
    title = chosen.title
    session.close()
    question = question.strip()
    if not question or len(question) > 2000:
        return render(
            request, "_error.html", tr, status_code=422, message=tr("error.question_length")
        )
    caller = Caller(user_id=user.id if user else None, session_id=None if user else sid)
    try:
        answer = await state_of(request).answers.ask(
            corpus=corpus, question=question, conversation_id=None, caller=caller
        )
    except AskError as error:
        return render(
            request,
            "_error.html",
            tr,
            status_code=404,
            message=tr(f"error.{error.code}", corpus=corpus),
        )
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/?corpus={corpus}#answer-{answer.id}", status_code=303)
    with state_of(request).sessions() as fresh:
        stored = fresh.get_one(Answer, answer.id)
        return render(
            request, "_answer.html", tr, answer=answer_out(stored, corpus_title=title, tr=tr)
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
        return render(
            request, "_error.html", tr, status_code=404, message=tr("error.unknown_answer")
        )
    corpus = session.get_one(Corpus, answer.corpus_id)
    return render(
        request, "_answer.html", tr, answer=answer_out(answer, corpus_title=corpus.title, tr=tr)
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
