"""The upload workflow: originals kept, versions, identical content, interrupted work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from corpora import originals
from corpora.lifecycle import DocumentLifecycle
from corpora.models import CorpusKind, DocumentStatus, DocumentVersion, ReviewPolicy
from corpora.repository import CorpusError, create_corpus
from corpora.uploads import UploadError, accept_upload, safe_filename
from database import transaction, utcnow


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\agent\\carte.pdf", "carte.pdf"),
        ("démarche<script>.md", "démarchescript.md"),
        ("..", "document"),
        ("a" * 300 + ".pdf", "a" * 187 + ".pdf"),
    ],
)
def test_file_names_cannot_escape_or_inject(given: str, kept: str) -> None:
    assert safe_filename(given) == kept


def test_versions_and_identical_content(sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        corpus = create_corpus(
            session=session,
            name="mairie",
            title="Mairie",
            kind=CorpusKind.procedures,
            review_policy=ReviewPolicy.flagged,
        )
        first = accept_upload(
            session=session,
            corpus=corpus,
            filename="carte.md",
            data=b"# A",
            max_bytes=100,
        )
        same = accept_upload(
            session=session,
            corpus=corpus,
            filename="carte.md",
            data=b"# A",
            max_bytes=100,
        )
        second = accept_upload(
            session=session,
            corpus=corpus,
            filename="carte.md",
            data=b"# B",
            max_bytes=100,
        )
        with pytest.raises(UploadError) as too_big:
            accept_upload(
                session=session,
                corpus=corpus,
                filename="gros.md",
                data=b"x" * 101,
                max_bytes=100,
            )
    assert (first.version, same.unchanged, second.version) == (1, True, 2)
    assert second.document_id == first.document_id
    assert too_big.value.code == "too_large"
    with transaction(sessions) as session:
        kept = [
            originals.read(session=session, version_id=v.id)
            for v in session.scalars(select(DocumentVersion).order_by(DocumentVersion.version))
        ]
    assert kept == [b"# A", b"# B"]  # the history keeps every original, in the database


def test_corpus_names_are_checked(sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session, pytest.raises(CorpusError) as error:
        create_corpus(
            session=session,
            name="Mairie de Paris",
            title="x",
            kind=CorpusKind.procedures,
            review_policy=ReviewPolicy.never,
        )
    assert error.value.code == "invalid_corpus_name"


def test_work_left_by_a_dead_worker_is_queued_again(sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        corpus = create_corpus(
            session=session,
            name="mairie",
            title="Mairie",
            kind=CorpusKind.procedures,
            review_policy=ReviewPolicy.flagged,
        )
        accept_upload(
            session=session,
            corpus=corpus,
            filename="a.md",
            data=b"# A",
            max_bytes=100,
        )
    documents = DocumentLifecycle(
        sessions=sessions,
        index=None,  # type: ignore[arg-type]
        max_bytes=100,
    )
    claimed = documents.claim_next()
    assert claimed is not None and documents.claim_next() is None  # claimed once only
    # The worker dies: its claim is older than the limit.
    with transaction(sessions) as session:
        session.execute(update(DocumentVersion).values(claimed_at=utcnow() - timedelta(hours=1)))
    assert documents.requeue_stale(older_than=timedelta(minutes=10)) == 1
    assert documents.claim_next() == claimed
    with sessions() as session:
        assert session.get_one(DocumentVersion, claimed).status == DocumentStatus.processing
