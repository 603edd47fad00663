"""Small helpers to put corpora and documents in a running test app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import create_corpus, get_corpus
from database import transaction
from server.state import AppState


def state(client: TestClient) -> AppState:
    return client.app.state.guichet  # type: ignore[attr-defined,no-any-return]


def add_corpus(
    client: TestClient,
    name: str,
    *,
    kind: str = "procedures",
    review: str = "flagged",
    title: str | None = None,
) -> None:
    with transaction(state(client).sessions) as session:
        create_corpus(
            session=session,
            name=name,
            title=title or name.title(),
            kind=CorpusKind(kind),
            review_policy=ReviewPolicy(review),
        )


def add_document(client: TestClient, corpus: str, filename: str, text: str) -> int:
    """Upload and index a document in the foreground; returns its id."""
    app_state = state(client)
    with transaction(app_state.sessions) as session:
        target = get_corpus(session=session, name=corpus)
        assert target is not None
        accepted = app_state.documents.accept(
            session=session, corpus=target, filename=filename, data=text.encode()
        )
    app_state.documents.index_pending()
    return accepted.document_id
