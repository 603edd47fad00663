"""The FastAPI app factory: heavy objects are built once, in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from corpora.db import make_engine, make_session_factory, transaction, utcnow
from corpora.uploads import Ingestor
from retrieval.index import SearchIndex
from review.answers import requeue_interrupted
from review.verified import withdraw_for_document
from server import (
    api,
    api_accounts,
    api_documents,
    api_reviews,
    audit,
    pages,
    pages_accounts,
    pages_documents,
    pages_info,
    pages_review,
    pages_transparency,
)
from server.answering import AnswerMode, AnswerService
from server.database import upgrade
from server.errors import install_error_handlers
from server.llm import LLMClient
from server.search import open_search_index
from server.security import install_security
from server.settings import PROJECT_ROOT, Settings
from server.templating import anchor, answer_html, cite_links, markdown, plain_text
from server.worker import IndexingWorker

log = logging.getLogger(__name__)
WEB = PROJECT_ROOT / "web"
VENDOR = PROJECT_ROOT / "node_modules" / "htmx.org" / "dist"


@dataclass
class AppState:
    """What every request may use; built once per process."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    index: SearchIndex
    llm: LLMClient
    answers: AnswerService
    ingestor: Ingestor
    worker: IndexingWorker


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in the data folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.05)  # the winner has created the file but not written it yet
    raise RuntimeError(f"{path} is empty")


def build_state(settings: Settings, llm_http: httpx.AsyncClient | None = None) -> AppState:
    """Open the database, the search index and the engine client."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.sqlalchemy_url)
    upgrade(db)
    sessions = make_session_factory(db)
    index = open_search_index(settings)
    llm = LLMClient(
        base_url=settings.effective_llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_s=settings.llm_timeout_s,
        max_tokens=settings.llm_max_tokens,
        http_client=llm_http,
    )

    def withdraw_verified(document_id: int, version: int) -> None:
        with transaction(sessions) as session:
            withdraw_for_document(
                session=session, document_id=document_id, version=version, index=index
            )

    ingestor = Ingestor(
        sessions=sessions,
        index=index,
        max_bytes=settings.max_upload_bytes,
        on_indexed=withdraw_verified,
    )
    return AppState(
        settings=settings,
        db=db,
        sessions=sessions,
        index=index,
        llm=llm,
        answers=AnswerService(
            sessions=sessions,
            index=index,
            llm=llm,
            k=settings.retrieval_k,
            mode=AnswerMode(settings.answer_mode),
        ),
        ingestor=ingestor,
        worker=IndexingWorker(ingestor),
    )


HOUSEKEEPING_EVERY_S = 600


def keep_audit_log_short(state: AppState) -> int:
    """Delete audit events past the retention period; returns how many went."""
    days = state.settings.audit_retention_days
    with transaction(state.sessions) as session:
        removed = audit.purge(session=session, keep_days=days)
    if removed:
        log.info("audit log: %d events older than %d days deleted", removed, days)
    return removed


def requeue_interrupted_answers(state: AppState) -> int:
    """Queue answers left ``generating`` by a process that died (older than any live
    request can be); returns how many."""
    older_than = utcnow() - timedelta(seconds=2 * state.settings.llm_timeout_s + 60)
    with transaction(state.sessions) as session:
        count = requeue_interrupted(session=session, older_than=older_than)
    if count:
        log.warning("%d answer(s) interrupted while being written sent to the review queue", count)
    return count


def _tidy(state: AppState) -> None:
    """The chores of a running app; a failed round is logged and tried again next time."""
    try:
        keep_audit_log_short(state)
        requeue_interrupted_answers(state)
    except Exception:
        log.exception("housekeeping round failed")


async def _chores(state: AppState) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_EVERY_S)
        await to_thread.run_sync(_tidy, state)


def create_app(
    settings: Settings | None = None, *, llm_http: httpx.AsyncClient | None = None
) -> FastAPI:
    """The app; ``llm_http`` lets tests put a fake transport under the engine client."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await to_thread.run_sync(build_state, settings, llm_http)
        app.state.guichet = state
        state.worker.start()
        await to_thread.run_sync(_tidy, state)
        chores = asyncio.create_task(_chores(state), name="guichet-housekeeping")
        log.info(
            "Guichet ready: engine %s, model %s",
            settings.effective_llm_base_url,
            settings.llm_model,
        )
        try:
            yield
        finally:
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
            await to_thread.run_sync(state.worker.stop)
            await state.llm.aclose()
            state.db.dispose()

    app = FastAPI(
        title="Guichet",
        version="0.1.0",
        description="Assistant de service public avec relecture humaine.",
        lifespan=lifespan,
    )
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    templates.env.filters["cite_links"] = cite_links
    templates.env.filters["answer_html"] = answer_html
    templates.env.filters["markdown"] = markdown
    templates.env.filters["plain_text"] = plain_text
    templates.env.filters["anchor"] = anchor
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    # htmx comes from the npm registry (package.json), installed by `make install`.
    app.mount("/vendor", StaticFiles(directory=str(VENDOR), check_dir=False), name="vendor")
    install_error_handlers(app)
    for module in (
        api,
        api_documents,
        api_reviews,
        api_accounts,
        pages,
        pages_documents,
        pages_review,
        pages_accounts,
        pages_info,
        pages_transparency,
    ):
        app.include_router(module.router)
    # Session cookie, CSRF, security headers, rate limits, OpenAPI error responses.
    install_security(app, settings)
    return app
