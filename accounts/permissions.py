"""The one place that decides who may do what (role × corpus × action).

The API, the pages and the CLI ask :func:`can` (or :func:`require`, which raises
:class:`~accounts.errors.NotAllowed`; server/errors.py turns it into 401 or 403). The rules:

- an admin may do anything, on any corpus;
- anyone, even an anonymous citizen, may ask about and read a public corpus
  (``procedures``); a course is for its owners (teachers) and students only;
- managing documents and reviewing answers belong to a corpus's owners whose role
  matches its kind: agents own procedures, teachers own courses;
- managing a course's students belongs to its teachers;
- a request made with an API token limited to some corpora can do nothing on others,
  whatever the role.

Errors: no caller → 401; a caller who may not → 403. Corpus names are not secret (they
appear in addresses and on the pages), so a forbidden corpus is a 403. Things addressed by
an id that belong to someone (an answer, a token, a member) are a 404 when they are not
the caller's, so that ids cannot be probed.
"""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from accounts.errors import NotAllowed
from accounts.models import Role, User
from corpora.models import Corpus, CorpusKind
from corpora.repository import member_role


class Action(enum.StrEnum):
    ask = "ask"
    read_documents = "read_documents"
    manage_documents = "manage_documents"
    review = "review"
    manage_students = "manage_students"
    manage_corpus = "manage_corpus"


def is_admin(user: User | None) -> bool:
    """An admin acting without a token restriction (admin-wide actions need it)."""
    return user is not None and user.role == Role.admin and user.token_corpora is None


def can(*, session: Session, user: User | None, action: Action, corpus: Corpus) -> bool:
    """Whether ``user`` (None: an anonymous citizen) may do ``action`` on ``corpus``."""
    if (
        user is not None
        and user.token_corpora is not None
        and corpus.name not in user.token_corpora
    ):
        return False
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
    if action == Action.manage_students and public:
        return False
    owner_role = Role.agent if public else Role.teacher
    return (
        user.role == owner_role
        and member_role(session=session, corpus=corpus, user_id=user.id) == "owner"
    )


def require(
    *,
    session: Session,
    user: User | None,
    action: Action,
    corpus: Corpus,
    code: str = "forbidden_corpus",
) -> None:
    """Raise :class:`NotAllowed` (401 nobody signed in, 403 not allowed) unless :func:`can`."""
    if not can(session=session, user=user, action=action, corpus=corpus):
        raise NotAllowed(code, signed_in=user is not None)


def require_signed_in(user: User | None) -> User:
    if user is None:
        raise NotAllowed("unauthenticated", signed_in=False)
    return user


def require_admin(user: User | None) -> User:
    if not is_admin(require_signed_in(user)):
        raise NotAllowed("forbidden", signed_in=True)
    assert user is not None
    return user
