"""API tokens: made, looked up, listed and revoked; the ``*_recorded`` forms write the
audit log (the API, the pages and the CLI call those)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.errors import AccountError
from accounts.models import ApiToken, User
from database import utcnow

TOKEN_PREFIX = "gch_"
# Signs in at most once an hour count as a "token used" audit event, so that the
# log says which tokens live without one row per API call.
TOKEN_USE_AUDIT_EVERY = timedelta(hours=1)


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough and allows lookup.
    return hashlib.sha256(token.encode()).hexdigest()


def restrict_to_token(user: User, token: ApiToken) -> None:
    """Mark ``user`` as acting through ``token`` for the rest of this request."""
    user._token_corpora = list(token.corpora) if token.corpora is not None else None  # type: ignore[attr-defined]


def issue_token(
    *,
    session: Session,
    user: User,
    days: int | None = 365,
    corpora: list[str] | None = None,
    label: str = "",
) -> str:
    """Create a token and return it in clear, the only time it is ever visible."""
    return issue_token_row(session=session, user=user, days=days, corpora=corpora, label=label)[0]


def issue_token_row(
    *,
    session: Session,
    user: User,
    days: int | None = 365,
    corpora: list[str] | None = None,
    label: str = "",
) -> tuple[str, ApiToken]:
    """Like :func:`issue_token`, also returning the stored row (for its id and dates)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        role=user.role,
        corpora=sorted(set(corpora)) if corpora is not None else None,
        expires_at=utcnow() + timedelta(days=days) if days else None,
        label=label[:80],
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_token(*, session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user behind a valid, unexpired, unrevoked token of their current role."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.state != "active" or not row.user.active:
        return None
    if row.role is not None and row.role != row.user.role:
        return None
    now = utcnow()
    if row.last_used_at is None or row.last_used_at < now - TOKEN_USE_AUDIT_EVERY:
        audit.record(
            session=session, event=audit.Event.token_used, actor_id=row.user_id, token_id=row.id
        )
    row.last_used_at = now
    return row.user, row


def tokens_of(*, session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_token(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens; someone else's is reported as unknown."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError("unknown_token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def issue_token_recorded(
    *,
    session: Session,
    user: User,
    days: int | None,
    corpora: list[str] | None,
    label: str,
    by: audit.Actor,
) -> tuple[str, ApiToken]:
    """:func:`issue_token_row`, logged with its lifetime and corpora (never the token)."""
    token, row = issue_token_row(
        session=session, user=user, days=days, corpora=corpora, label=label
    )
    audit.record_action(
        session=session,
        event=audit.Event.token_created,
        by=by,
        subject_id=user.id,
        token_id=row.id,
        days=days,
        corpora=corpora,
    )
    return token, row


def revoke_token_recorded(
    *, session: Session, user: User, token_id: int, by: audit.Actor
) -> ApiToken:
    """:func:`revoke_token`, logged each time it is asked for (even when already revoked)."""
    row = revoke_token(session=session, user=user, token_id=token_id)
    audit.record_action(
        session=session,
        event=audit.Event.token_revoked,
        by=by,
        subject_id=user.id,
        token_id=row.id,
    )
    return row


def revoke_all_tokens_recorded(*, session: Session, user: User, by: audit.Actor) -> int:
    """Revoke every live token of ``user`` at once (with a password change); each logged.
    Returns how many were revoked."""
    live = [row for row in tokens_of(session=session, user=user) if row.revoked_at is None]
    for row in live:
        revoke_token_recorded(session=session, user=user, token_id=row.id, by=by)
    return len(live)
