"""What every request of one app process may use, built once in the lifespan.

Routes reach it with :func:`state_of` (or the ``State`` dependency of server/deps.py);
nothing here imports a route, so the state can be used by routes, the CLI and tests alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from corpora.lifecycle import DocumentLifecycle
from corpora.originals import adopt_files
from corpora.sources.secrets import SecretBox
from corpora.sources.sync import Synchronizer
from database import make_engine, make_session_factory
from retrieval.embedding import load_embedder
from retrieval.index import SearchIndex
from server.answers.energy import EnergyRates
from server.answers.pipeline import AnswerMode, AnswerService
from server.documents.lifecycle import document_lifecycle
from server.documents.worker import IndexingWorker
from server.engine.client import LLMClient
from server.notifications.worker import Notifier, build_notifier
from server.schema import upgrade
from server.settings import Settings
from server.sources.runner import SyncWorker, secret_box, synchronizer


@dataclass
class AppState:
    """What every request may use; built once per process."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    index: SearchIndex
    llm: LLMClient
    answers: AnswerService
    documents: DocumentLifecycle
    worker: IndexingWorker
    sync: Synchronizer
    sync_worker: SyncWorker
    secrets: SecretBox
    # The e-mail worker; None when no SMTP server is set (e-mail off).
    notifier: Notifier | None = None

    @property
    def energy_rates(self) -> EnergyRates:
        """The configured energy per token, for the estimate shown under answers."""
        return EnergyRates.from_settings(self.settings)


def open_search_index(settings: Settings, db: Engine) -> SearchIndex:
    """Catalog in the application's PostgreSQL database (``db``, migrated), Chroma
    embedded or on a server, the embedder loaded.

    With SQLite the catalog keeps a file of its own in the data folder: the application
    calls the index inside its own write transactions (deleting a document), and SQLite
    has one writer per file, so a shared file would wait on itself.
    """
    return SearchIndex(
        root=settings.data_dir,
        database=None if db.dialect.name == "sqlite" else db,
        embedder=load_embedder(settings.embedding_model, cache=settings.embedding_cache_path),
        chroma_url=settings.chroma_url,
        chroma_database=settings.chroma_database,
        reranker_model=settings.reranker_model,
    )


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The engine of the configured database, migrated to the latest schema, and its
    sessions; originals an older install kept on this host's disk are moved into it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.sqlalchemy_url)
    upgrade(db)
    sessions = make_session_factory(db)
    adopt_files(sessions=sessions)
    return db, sessions


def build_state(settings: Settings, llm_http: httpx.AsyncClient | None = None) -> AppState:
    """Open the database, the search index and the engine client (``llm_http``: an
    ``httpx.AsyncClient`` tests put a fake transport under)."""
    db, sessions = open_database(settings)
    index = open_search_index(settings, db)
    llm = LLMClient(
        base_url=settings.effective_llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_s=settings.llm_timeout_s,
        max_tokens=settings.llm_max_tokens,
        http_client=llm_http,
    )
    documents = document_lifecycle(sessions=sessions, index=index, settings=settings)
    secrets = secret_box(settings, db)
    sync = synchronizer(sessions=sessions, documents=documents, settings=settings, secrets=secrets)
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
        documents=documents,
        worker=IndexingWorker(documents),
        sync=sync,
        sync_worker=SyncWorker(sync, sessions, enabled=settings.sync_scheduler),
        secrets=secrets,
        notifier=build_notifier(settings, sessions),
    )


def state_of(request: Request) -> AppState:
    return request.app.state.guichet
