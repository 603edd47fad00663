"""The document lifecycle as every path uses it, with what depends on a document wired in.

:func:`document_lifecycle` is the one place that builds a :class:`DocumentLifecycle`: the
app state (upload API and page, deletion API and page, the indexing worker), ``guichet
ingest`` and ``guichet demo``, and the tests all get theirs here, so none can forget a
hook. Today both hooks withdraw the verified answers citing the document: their text was
checked against content that search no longer serves; a new version's units are also
embedded ahead of the questions (server/answers/ahead.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from corpora.lifecycle import DocumentChange, DocumentLifecycle, Hook
from retrieval.index import SearchIndex
from retrieval.parsing.isolated import ParseLimits
from review.verified import Searchable, withdraw_for_document
from server.answers.ahead import embed_units_ahead
from server.settings import Settings


def withdraw_verified_answers(index: Searchable) -> Hook:
    """The hook: withdraw the active verified answers citing an older version (a new one is
    live) or any version (the document is gone), and drop their questions from search."""

    def hook(session: Session, change: DocumentChange) -> None:
        withdraw_for_document(
            session=session,
            document_id=change.document_id,
            version=change.version,
            reason="document_updated" if change.version is not None else "document_deleted",
            index=index,
        )

    return hook


def document_lifecycle(
    *, sessions: sessionmaker[Session], index: SearchIndex, settings: Settings
) -> DocumentLifecycle:
    """The lifecycle of this instance's documents, verified answers withdrawn on change."""
    withdraw = withdraw_verified_answers(index)
    return DocumentLifecycle(
        sessions=sessions,
        index=index,
        uploads_dir=settings.uploads_dir,
        max_bytes=settings.max_upload_bytes,
        limits=ParseLimits(
            max_bytes=settings.max_upload_bytes,
            max_chars=settings.max_document_chars,
            timeout_s=settings.parse_timeout_s,
            memory_mb=settings.parse_memory_mb,
        ),
        max_chunks=settings.max_document_chunks,
        on_version_live=[withdraw, embed_units_ahead(index)],
        on_document_gone=[withdraw],
    )
