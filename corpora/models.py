"""What a corpus is, and the documents (with their versions) it holds."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, UTCDateTime, utcnow


class CorpusKind(enum.StrEnum):
    procedures = "procedures"
    course = "course"


class ReviewPolicy(enum.StrEnum):
    """When an answer waits for a person before the asker sees it."""

    never = "never"
    flagged = "flagged"
    always = "always"


class DocumentStatus(enum.StrEnum):
    queued = "queued"
    processing = "processing"
    indexed = "indexed"
    failed = "failed"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Corpus(Base):
    """A collection of documents that one audience may ask about."""

    __tablename__ = "corpora"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CorpusKind] = mapped_column(_enum(CorpusKind))
    review_policy: Mapped[ReviewPolicy] = mapped_column(_enum(ReviewPolicy))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    licence: Mapped[str | None] = mapped_column(String(100), default=None)
    # Whether the owners publish this corpus's verified answers as open data.
    open_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sensitive_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[CorpusMember]] = relationship(
        back_populates="corpus", cascade="all, delete-orphan"
    )


class CorpusMember(Base):
    """A person attached to a corpus: its owners (agents, teachers) or students."""

    __tablename__ = "corpus_members"
    __table_args__ = (UniqueConstraint("corpus_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # "owner" or "student"

    corpus: Mapped[Corpus] = relationship(back_populates="members")


class Document(Base):
    """One document of a corpus; its content lives in versions."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("corpus_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpora.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    # The version search currently serves (None until a version was indexed).
    indexed_version: Mapped[int | None] = mapped_column(Integer, default=None)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    source_url: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    corpus: Mapped[Corpus] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.version"
    )


class DocumentVersion(Base):
    """One uploaded content of a document, kept for the history."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Where an older install kept the original on disk, until a host moves it into the
    # database (corpora/originals.py); None once it is there, as for every new version.
    stored_path: Mapped[str | None] = mapped_column(String(500), default=None)
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    # Indexing progress (chunks embedded / to embed), shown to the agent while it runs.
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The process indexing it (corpora/claims.py): a dead holder's work is taken up at once.
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    document: Mapped[Document] = relationship(back_populates="versions")
