"""Rows put straight into a real database, for tests of the domain packages (accounts/,
corpora/, review/) that need no app: no FastAPI, no engine, no search index.

Every factory is keyword-only, adds its rows to the given session and flushes, so ids
are there; the caller commits (or the ``session`` fixture's transaction ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import accounts.audit  # noqa: F401 - registers the tables on the shared metadata
import accounts.courses  # noqa: F401
from accounts.models import Role, User
from corpora.models import (
    Corpus,
    CorpusKind,
    Document,
    DocumentStatus,
    DocumentVersion,
    ReviewPolicy,
)
from corpora.repository import add_member, create_corpus
from database import Base, make_engine, make_session_factory, utcnow
from review.models import (
    Answer,
    AnswerStatus,
    Conversation,
    ReviewItem,
    ReviewState,
    VerifiedAnswer,
    VerifiedSource,
)
from tests.storage import Storage


@pytest.fixture
def sessions(tmp_path: Path, storage: Storage) -> Iterator[sessionmaker[Session]]:
    """Sessions of an empty database with every domain table (SQLite, or PostgreSQL with
    ``--db postgres``), made from the models: no app, no migrations."""
    engine = make_engine(storage.database_url or f"sqlite:///{tmp_path / 'rows.sqlite'}")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as opened:
        yield opened


def make_corpus(
    *,
    session: Session,
    name: str = "mairie",
    kind: CorpusKind = CorpusKind.procedures,
    review: ReviewPolicy = ReviewPolicy.flagged,
) -> Corpus:
    return create_corpus(
        session=session, name=name, title=name.title(), kind=kind, review_policy=review
    )


def make_user(
    *,
    session: Session,
    name: str,
    role: Role,
    owns: tuple[Corpus, ...] = (),
    studies: tuple[Corpus, ...] = (),
) -> User:
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    for corpus in owns:
        add_member(session=session, corpus=corpus, user_id=user.id, role="owner")
    for corpus in studies:
        add_member(session=session, corpus=corpus, user_id=user.id, role="student")
    return user


def make_document(
    *, session: Session, corpus: Corpus, filename: str = "carte.md", versions: int = 1
) -> Document:
    """A document whose ``versions`` versions were indexed, the last one serving search."""
    document = Document(
        corpus_id=corpus.id,
        filename=filename,
        title=filename,
        status=DocumentStatus.indexed,
        latest_version=versions,
        indexed_version=versions,
    )
    session.add(document)
    session.flush()
    for number in range(1, versions + 1):
        session.add(
            DocumentVersion(
                document_id=document.id,
                version=number,
                sha256=f"{number:064d}",
                size_bytes=1,
                status=DocumentStatus.indexed,
                indexed_at=utcnow(),
            )
        )
    session.flush()
    return document


def make_answer(
    *,
    session: Session,
    corpus: Corpus,
    user: User | None = None,
    session_id: str | None = None,
    status: AnswerStatus = AnswerStatus.released,
    question: str = "Quelles pièces fournir ?",
    text: str | None = "Une photo d'identité [1].",
    citations: list[dict[str, Any]] | None = None,
) -> Answer:
    """An answer asked by ``user``, or anonymously in the browser session ``session_id``."""
    conversation = Conversation(
        corpus_id=corpus.id, user_id=user.id if user else None, session_id=session_id
    )
    session.add(conversation)
    session.flush()
    answer = Answer(
        conversation_id=conversation.id,
        corpus_id=corpus.id,
        question=question,
        status=status,
        text=text,
        citations=citations or [],
        passages=citations or [],
    )
    session.add(answer)
    session.flush()
    return answer


def make_review_item(
    *, session: Session, answer: Answer, state: ReviewState = ReviewState.pending
) -> ReviewItem:
    item = ReviewItem(answer_id=answer.id, corpus_id=answer.corpus_id, state=state, reasons=[])
    session.add(item)
    session.flush()
    return item


def make_verified(
    *,
    session: Session,
    corpus: Corpus,
    cites: tuple[tuple[Document, int], ...],
    question: str = "Quelles pièces pour une carte d'identité ?",
    text: str = "Une photo d'identité [1].",
) -> VerifiedAnswer:
    """An active verified answer citing these (document, version) pairs."""
    verified = VerifiedAnswer(
        corpus_id=corpus.id,
        question=question,
        text=text,
        citations=[
            {"n": n, "document_id": d.id, "version": v, "title": d.title}
            for n, (d, v) in enumerate(cites, start=1)
        ],
        active=True,
    )
    verified.sources = [VerifiedSource(document_id=d.id, version=v) for d, v in cites]
    session.add(verified)
    session.flush()
    return verified
