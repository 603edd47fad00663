"""The accounts feature as the API and the pages share it: signing in, the corpora a new
token may be limited to, a token as shown, the corpus an admin names.

Plain Python: no FastAPI here. The account rules themselves (passwords, tokens, roles,
memberships, the audit log) live in the ``accounts`` domain package.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from accounts import audit
from accounts.errors import NotAllowed
from accounts.models import ApiToken, Role, User
from accounts.permissions import Action, can
from accounts.users import get_user, verify_password
from corpora.models import Corpus
from corpora.repository import CorpusError, corpora_of, get_corpus
from server.navigation import navigation_of
from server.security.ratelimit import Rule, hit, peek


def home_of(*, session: Session, user: User) -> str:
    """Where ``user`` lands after signing in: what they came for.

    An admin: the administration; a teacher or an agent: their review queue (which lists
    their corpora and links to their documents), or their documents when they review
    nothing; a student: their first course; anyone else: their account.
    """
    if user.role == Role.admin:
        return "/admin"
    if user.role == Role.student:
        courses = corpora_of(session=session, user_id=user.id, role="student")
        return f"/?corpus={courses[0].name}" if courses else "/account"
    nav = navigation_of(session=session, user=user)
    if nav.review:
        return "/relecture"
    return "/documents" if nav.documents else "/account"


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


def _account_rules(rule: Rule) -> tuple[Rule, ...]:
    """Failed sign-ins an account takes before its name is slowed down: ``rule.limit`` a
    minute, then four times that a quarter of an hour (the back-off)."""
    return (Rule("login-fail", rule.limit, 60), Rule("login-fail-long", rule.limit * 4, 900))


def _account_key(name: str) -> str:
    return "name:" + hashlib.sha256(name.strip().lower().encode()).hexdigest()


def sign_in_wait(
    *, db: Engine, rule: Rule, source: str, name: str, known_device: bool
) -> int | None:
    """Seconds to wait before trying again; None when the attempt may go on.

    Every attempt counts against the caller's address. Only failures count against the
    account, and a browser where the account signed in before (``known_device``) is not
    slowed by them: whoever hammers a name from many addresses slows down strangers'
    attempts on it, never its owner's usual browser.
    """
    waits = [hit(db, rule, "address:" + source)]
    if not known_device:
        waits += [peek(db, r, _account_key(name)) for r in _account_rules(rule)]
    return max((w for w in waits if w is not None), default=None)


def count_failed_sign_in(*, db: Engine, rule: Rule, name: str) -> None:
    for account_rule in _account_rules(rule):
        hit(db, account_rule, _account_key(name))


def sign_in(*, session: Session, name: str, password: str, source: str) -> User | None:
    """The active account these credentials open, or None; either way audited. A failure
    under an unknown name records no name: people type passwords into the name field."""
    user = verify_password(session=session, name=name, password=password)
    if user is None:
        known = get_user(session=session, name=name)
        audit.record(
            session=session,
            event=audit.Event.sign_in_failed,
            subject_id=known.id if known else None,
            source=source,
            via="web",
        )
        return None
    audit.record_action(
        session=session,
        event=audit.Event.sign_in,
        by=audit.Actor(id=user.id, via="web", source=source),
        subject_id=user.id,
    )
    return user
