"""The one place that decides who may do what (role × corpus × action)."""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from corpora.models import Corpus, CorpusKind
from corpora.repository import member_role
from server.accounts import Role, User


class Action(enum.StrEnum):
    ask = "ask"
    read_documents = "read_documents"
    manage_documents = "manage_documents"
    review = "review"
    manage_corpus = "manage_corpus"


def can(*, session: Session, user: User | None, action: Action, corpus: Corpus) -> bool:
    """Whether ``user`` (None: an anonymous citizen) may do ``action`` on ``corpus``."""
    if user is not None and user.role == Role.admin:
        return True
    public = corpus.kind == CorpusKind.procedures
    if action in (Action.ask, Action.read_documents):
        if public:
            return True
        return user is not None and member_role(
            session=session, corpus=corpus, user_id=user.id
        ) in ("owner", "student")
    if user is None or action == Action.manage_corpus:
        return False
    owner_role = Role.agent if public else Role.teacher
    return (
        user.role == owner_role
        and member_role(session=session, corpus=corpus, user_id=user.id) == "owner"
    )
