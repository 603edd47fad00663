"""The courses feature as the API and the pages share it: the course a teacher manages,
adding a member by name.

Plain Python: no FastAPI here; memberships and invitations are ``accounts.courses``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts import audit, courses
from accounts.errors import AccountError
from accounts.models import User
from accounts.permissions import Action, require
from accounts.users import get_user
from corpora.models import Corpus, CorpusKind
from corpora.repository import CorpusError
from server.accounts.service import corpus_named


def managed_course(session: Session, user: User, name: str) -> Corpus:
    """The course ``name`` when ``user`` manages its students; else why not."""
    corpus = corpus_named(session, name)
    require(session=session, user=user, action=Action.manage_students, corpus=corpus)
    if corpus.kind != CorpusKind.course:
        raise CorpusError("not_a_course")
    return corpus


def add_member_named(
    session: Session,
    corpus: Corpus,
    name: str,
    membership: courses.Membership,
    by: audit.Actor,
) -> str | None:
    """Add the account called ``name`` to ``corpus``, audited; the refusal's error code
    when that cannot be done (for the form to show), else None."""
    member = get_user(session=session, name=name.strip())
    if member is None:
        return "unknown_user"
    try:
        courses.add_member_recorded(
            session=session, corpus=corpus, user=member, membership=membership, by=by
        )
    except AccountError as error:
        return error.code
    return None
