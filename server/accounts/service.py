"""The accounts feature as the API and the pages share it: the corpora a new token may be
limited to, a token as shown, the corpus an admin names.

Plain Python: no FastAPI here. The account rules themselves (passwords, tokens, roles,
memberships, the audit log) live in the ``accounts`` domain package.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from accounts.errors import NotAllowed
from accounts.models import ApiToken, User
from accounts.permissions import Action, can
from corpora.models import Corpus
from corpora.repository import CorpusError, get_corpus


def corpus_named(session: Session, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise CorpusError("unknown_corpus", corpus=name)
    return corpus


def allowed_token_corpora(
    session: Session, user: User, names: list[str] | None
) -> list[str] | None:
    """Check the corpora a new token is limited to; a limited token can only narrow."""
    if names is None:
        return user.token_corpora
    for name in names:
        corpus = corpus_named(session, name)
        if not can(session=session, user=user, action=Action.ask, corpus=corpus):
            raise NotAllowed("forbidden_corpus", signed_in=True)
    return sorted(set(names))


def token_out(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "label": row.label,
        "role": row.role.value if row.role else None,
        "corpora": row.corpora,
        "state": row.state,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }
