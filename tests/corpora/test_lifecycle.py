"""The document lifecycle tells what depends on a document, on every change, inside the
transaction that records it (real database, real index on a temporary folder)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from corpora.lifecycle import DocumentChange, DocumentLifecycle
from corpora.models import Document, DocumentStatus
from corpora.repository import get_corpus
from database import transaction
from retrieval.index import SearchIndex
from tests.factories import make_corpus

TEXT = b"# Carte d'identite\n\nUne photo d'identite recente et un justificatif de domicile."


def _lifecycle(
    sessions: sessionmaker[Session], index: SearchIndex, told: list[object]
) -> DocumentLifecycle:
    def live(session: Session, change: DocumentChange) -> None:
        # Inside the transaction: the version is already recorded as the one served.
        document = session.get_one(Document, change.document_id)
        told.append(("live", change, document.indexed_version))

    def gone(session: Session, change: DocumentChange) -> None:
        document = session.get_one(Document, change.document_id)
        told.append(("gone", change, document.deleted_at is not None))

    return DocumentLifecycle(
        sessions=sessions,
        index=index,
        max_bytes=100_000,
        on_version_live=[live],
        on_document_gone=[gone],
    )


def _upload(documents: DocumentLifecycle, sessions: sessionmaker[Session], data: bytes) -> int:
    with transaction(sessions) as session:
        corpus = get_corpus(session=session, name="mairie") or make_corpus(session=session)
        accepted = documents.accept(session=session, corpus=corpus, filename="carte.md", data=data)
    documents.index_pending()
    return accepted.document_id


def test_each_new_version_and_the_deletion_are_told(
    sessions: sessionmaker[Session], index: SearchIndex
) -> None:
    told: list[object] = []
    documents = _lifecycle(sessions, index, told)
    document_id = _upload(documents, sessions, TEXT)
    _upload(documents, sessions, TEXT)  # identical content: no new version, nothing told
    _upload(documents, sessions, TEXT + b" Sur rendez-vous.")
    with transaction(sessions) as session:
        documents.delete(session=session, document=session.get_one(Document, document_id))
    assert told == [
        ("live", DocumentChange(document_id, "mairie", 1), 1),
        ("live", DocumentChange(document_id, "mairie", 2), 2),
        ("gone", DocumentChange(document_id, "mairie", None), True),
    ]
    assert index.document_chunks(corpus="mairie", document_id=str(document_id)) == []


def test_a_failing_hook_undoes_the_deletion(
    sessions: sessionmaker[Session], index: SearchIndex
) -> None:
    def refuse(session: Session, change: DocumentChange) -> None:
        raise RuntimeError("the dependants could not be told")

    documents = DocumentLifecycle(
        sessions=sessions,
        index=index,
        max_bytes=100_000,
        on_document_gone=[refuse],
    )
    document_id = _upload(documents, sessions, TEXT)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        documents.delete(session=session, document=session.get_one(Document, document_id))
    with sessions() as session:
        document = session.get_one(Document, document_id)
        assert document.deleted_at is None and document.status == DocumentStatus.indexed
