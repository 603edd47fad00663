"""People who sign in (admins, agents, teachers, students) and their API tokens.

Citizens never have an account: they stay anonymous behind a session id.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from corpora.db import Base, UTCDateTime, utcnow

TOKEN_PREFIX = "gch_"
_hasher = PasswordHasher()


class Role(enum.StrEnum):
    admin = "admin"
    agent = "agent"
    teacher = "teacher"
    student = "student"


class User(Base):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(Base):
    """A bearer token for scripts; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    # None: every corpus the user may reach; otherwise the names it is limited to.
    corpora: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="tokens")


class AccountError(Exception):
    """A request about accounts that cannot be honoured; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough and allows lookup.
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(*, session: Session, name: str, role: Role, password: str | None = None) -> User:
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError("user_exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password) if password else None)
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def issue_token(
    *,
    session: Session,
    user: User,
    days: int | None = 365,
    corpora: list[str] | None = None,
    label: str = "",
) -> str:
    """Create a token and return it in clear, the only time it is ever visible."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days) if days else None
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            corpora=corpora,
            expires_at=expires,
            label=label,
        )
    )
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user behind a valid, unexpired, unrevoked token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    row.last_used_at = utcnow()
    return row.user, row


def verify_password(*, session: Session, name: str, password: str) -> User | None:
    user = get_user(session=session, name=name)
    if user is None or not user.active or not user.password_hash:
        # Hash anyway so that unknown names take as long as wrong passwords.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    return user


def set_password(*, user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
