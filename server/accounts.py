"""People who sign in (admins, agents, teachers, students) and their API tokens.

Citizens never have an account: they stay anonymous behind a session id.
Passwords are hashed with argon2; tokens carry 256 random bits and only their
SHA-256 is stored. A token is bound to the role its user had when it was made
(a change of role silently retires it) and, optionally, to some corpora.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from corpora.db import Base, UTCDateTime, utcnow
from server import audit

TOKEN_PREFIX = "gch_"
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Signs in at most once an hour count as a "token used" audit event, so that the
# log says which tokens live without one row per API call.
TOKEN_USE_AUDIT_EVERY = timedelta(hours=1)
_hasher = PasswordHasher()


class Role(enum.StrEnum):
    admin = "admin"
    agent = "agent"
    teacher = "teacher"
    student = "student"


def _role_enum() -> Enum:
    return Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class User(Base):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(_role_enum())
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def token_corpora(self) -> list[str] | None:
        """The corpora this request is limited to, when it came with a restricted token.

        Set per request by :func:`restrict_to_token` on the instance (the ORM keeps one
        instance per database session, and sessions last one request), read by
        :func:`server.permissions.can`.
        """
        return getattr(self, "_token_corpora", None)


def restrict_to_token(user: User, token: ApiToken) -> None:
    """Mark ``user`` as acting through ``token`` for the rest of this request."""
    user._token_corpora = list(token.corpora) if token.corpora is not None else None  # type: ignore[attr-defined]


class ApiToken(Base):
    """A bearer token for scripts; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    # The role the user had when the token was made; None only for tokens made before
    # roles were recorded (they act with the user's current role).
    role: Mapped[Role | None] = mapped_column(_role_enum(), nullable=True, default=None)
    # None: every corpus the user may reach; otherwise the names it is limited to.
    corpora: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def state(self) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"


class AccountError(Exception):
    """A request about accounts that cannot be honoured; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough and allows lookup.
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError("password_length")


def create_user(*, session: Session, name: str, role: Role, password: str | None = None) -> User:
    if not USER_NAME.match(name):
        raise AccountError("invalid_user_name")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError("user_exists")
    if password is not None:
        check_password_rules(password)
    user = User(name=name, role=role, password_hash=_hasher.hash(password) if password else None)
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.name)))


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


def verify_password(*, session: Session, name: str, password: str) -> User | None:
    user = get_user(session=session, name=name)
    if user is None or not user.active or not user.password_hash:
        # Hash anyway so that unknown names take as long as wrong passwords.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(*, user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = _hasher.hash(password)


def change_password(*, user: User, current: str, new: str) -> None:
    """Change one's own password, knowing the current one."""
    try:
        ok = bool(user.password_hash) and _hasher.verify(user.password_hash or "", current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AccountError("wrong_password")
    set_password(user=user, password=new)


def session_fingerprint(user: User) -> str:
    """A short digest of the password hash, kept in the session cookie.

    A session whose fingerprint no longer matches (the password changed) is signed
    out: sessions live in signed cookies, so this is how they are ended elsewhere.
    """
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def set_role(*, user: User, role: Role) -> None:
    user.role = role


def set_active(*, user: User, active: bool) -> None:
    user.active = active


# -- the same actions as the interfaces perform them: done and written to the audit log ------


def create_user_recorded(
    *, session: Session, name: str, role: Role, password: str | None = None, by: audit.Actor
) -> User:
    user = create_user(session=session, name=name, role=role, password=password)
    audit.record_action(
        session=session,
        event=audit.Event.user_created,
        by=by,
        subject_id=user.id,
        role=user.role.value,
    )
    return user


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


def change_password_recorded(
    *, session: Session, user: User, current: str, new: str, by: audit.Actor
) -> None:
    """:func:`change_password`, logged only when the current password was right."""
    change_password(user=user, current=current, new=new)
    audit.record_action(
        session=session, event=audit.Event.password_changed, by=by, subject_id=user.id
    )


def set_password_recorded(*, session: Session, user: User, password: str, by: audit.Actor) -> None:
    """:func:`set_password` (no current password asked: the shell), logged."""
    set_password(user=user, password=password)
    audit.record_action(
        session=session, event=audit.Event.password_changed, by=by, subject_id=user.id
    )


def set_role_recorded(*, session: Session, user: User, role: Role, by: audit.Actor) -> Role:
    """Give ``user`` a role, logged with the one it replaces (returned), even if the same."""
    previous = user.role
    set_role(user=user, role=role)
    audit.record_action(
        session=session,
        event=audit.Event.role_changed,
        by=by,
        subject_id=user.id,
        from_role=previous.value,
        to_role=role.value,
    )
    return previous


def set_active_recorded(*, session: Session, user: User, active: bool, by: audit.Actor) -> None:
    """Activate or deactivate ``user``, logged even if it already was."""
    set_active(user=user, active=active)
    audit.record_action(
        session=session,
        event=audit.Event.user_activated if active else audit.Event.user_deactivated,
        by=by,
        subject_id=user.id,
    )


def update_user_recorded(
    *,
    session: Session,
    user: User,
    role: Role | None,
    active: bool | None,
    by: audit.Actor,
) -> None:
    """An admin's change of role or state (API and pages); only what changes is logged.

    An admin may not change their own role nor deactivate themself (``cannot_change_self``).
    """
    if user.id == by.id and ((role is not None and role != user.role) or active is False):
        raise AccountError("cannot_change_self")
    if role is not None and role != user.role:
        set_role_recorded(session=session, user=user, role=role, by=by)
    if active is not None and active != user.active:
        set_active_recorded(session=session, user=user, active=active, by=by)
