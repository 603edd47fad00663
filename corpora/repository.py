"""Queries about corpora, their members and their documents."""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corpora.hygiene import clean_line, full_match
from corpora.models import Corpus, CorpusKind, CorpusMember, Document, ReviewPolicy

CORPUS_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")  # matched whole: full_match


class CorpusError(Exception):
    """A corpus request that cannot be honoured; ``code`` names why."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def create_corpus(
    *,
    session: Session,
    name: str,
    title: str,
    kind: CorpusKind,
    review_policy: ReviewPolicy,
    language: str = "fr",
) -> Corpus:
    if not full_match(CORPUS_NAME, name):
        raise CorpusError("invalid_corpus_name", name=clean_line(name))
    title = clean_line(title)
    if get_corpus(session=session, name=name) is not None:
        raise CorpusError("corpus_exists", name=name)
    corpus = Corpus(
        name=name, title=title, kind=kind, review_policy=review_policy, language=language
    )
    session.add(corpus)
    session.flush()
    return corpus


def get_corpus(*, session: Session, name: str) -> Corpus | None:
    return session.scalar(select(Corpus).where(Corpus.name == name))


def list_corpora(*, session: Session) -> list[Corpus]:
    return list(session.scalars(select(Corpus).order_by(Corpus.kind, Corpus.title)))


def add_member(*, session: Session, corpus: Corpus, user_id: int, role: str) -> CorpusMember:
    """Attach a person to a corpus as ``owner`` (agent, teacher) or ``student``."""
    member = session.scalar(
        select(CorpusMember).where(
            CorpusMember.corpus_id == corpus.id, CorpusMember.user_id == user_id
        )
    )
    if member is None:
        member = CorpusMember(corpus_id=corpus.id, user_id=user_id, role=role)
        session.add(member)
    else:
        member.role = role
    session.flush()
    return member


def member_role(*, session: Session, corpus: Corpus, user_id: int) -> str | None:
    return session.scalar(
        select(CorpusMember.role).where(
            CorpusMember.corpus_id == corpus.id, CorpusMember.user_id == user_id
        )
    )


def corpora_of(*, session: Session, user_id: int, role: str | None = None) -> list[Corpus]:
    query = select(Corpus).join(CorpusMember).where(CorpusMember.user_id == user_id)
    if role is not None:
        query = query.where(CorpusMember.role == role)
    return list(session.scalars(query.order_by(Corpus.title)))


def list_documents(*, session: Session, corpus: Corpus) -> list[Document]:
    """The documents search serves (or will) for ``corpus``: deleted ones left out."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.corpus_id == corpus.id, Document.deleted_at.is_(None))
            .order_by(Document.title, Document.filename)
        )
    )


def document_counts(*, session: Session, corpus_ids: Collection[int]) -> dict[int, int]:
    """How many documents (deleted ones left out) each of ``corpus_ids`` holds."""
    rows = session.execute(
        select(Document.corpus_id, func.count())
        .where(Document.corpus_id.in_(list(corpus_ids) or [-1]), Document.deleted_at.is_(None))
        .group_by(Document.corpus_id)
    ).all()
    found = {corpus_id: count for corpus_id, count in rows}
    return {corpus_id: found.get(corpus_id, 0) for corpus_id in corpus_ids}
