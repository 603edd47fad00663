"""The header's navigation: what the signed-in person may use, on every page.

Plain Python (services use it too). A Jinja context processor
(:func:`server.templating.navigation`) gives every page
``nav``: links to the review queue (with how many questions wait), to the documents and to
the administration, each shown only to those the rules of :func:`accounts.permissions.can`
let in. The pages themselves still check rights; this only decides what the menu offers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accounts.models import Role, User
from accounts.permissions import Action, can, is_admin
from corpora.models import Corpus
from corpora.repository import list_corpora
from review.stats import waiting_per_corpus


@dataclass(frozen=True)
class Navigation:
    """What the menu offers one person (nothing but asking for a visitor)."""

    signed_in: bool = False
    review: bool = False
    documents: bool = False
    admin: bool = False
    waiting: int = 0


def reviewed_and_managed(*, session: Session, user: User) -> tuple[list[Corpus], list[Corpus]]:
    """The corpora ``user`` reviews, and those whose documents they manage."""
    corpora = list_corpora(session=session)
    reviewed = [
        c for c in corpora if can(session=session, user=user, action=Action.review, corpus=c)
    ]
    managed = [
        c
        for c in corpora
        if can(session=session, user=user, action=Action.manage_documents, corpus=c)
    ]
    return reviewed, managed


def navigation_of(*, session: Session, user: User | None) -> Navigation:
    """The menu of ``user`` (None: a visitor)."""
    if user is None or not user.active:
        return Navigation()
    if user.role == Role.student:
        return Navigation(signed_in=True)
    reviewed, managed = reviewed_and_managed(session=session, user=user)
    waiting = waiting_per_corpus(session=session, corpus_ids=[c.id for c in reviewed])
    return Navigation(
        signed_in=True,
        review=bool(reviewed),
        documents=bool(managed),
        admin=is_admin(user),
        waiting=sum(waiting.values()),
    )
