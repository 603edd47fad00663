"""Small helpers to put corpora and documents in a running test app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from corpora.db import transaction
from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import create_corpus, get_corpus
from corpora.uploads import accept_upload
from server.app import AppState


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
        accepted = accept_upload(
            session=session,
            corpus=target,
            filename=filename,
            data=text.encode(),
            uploads_dir=app_state.settings.uploads_dir,
            max_bytes=app_state.settings.max_upload_bytes,
        )
    version_id = app_state.ingestor.claim_next()
    while version_id is not None:
        app_state.ingestor.process(version_id)
        version_id = app_state.ingestor.claim_next()
    return accepted.document_id
