"""The account tables: people who sign in, and their API tokens.

Passwords are hashed with argon2 (accounts/users.py); tokens carry 256 random bits and
only their SHA-256 is stored (accounts/tokens.py). A token is bound to the role its user
had when it was made (a change of role silently retires it) and, optionally, to some
corpora.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    agent = "agent"
    teacher = "teacher"
    student = "student"


def _role_enum() -> Enum:
    return Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Frequency(enum.StrEnum):
    """How often a reviewer hears of new items in their queue."""

    immediate = "immediate"
    hourly = "hourly"
    daily = "daily"
    off = "off"


def _frequency_enum() -> Enum:
    return Enum(
        Frequency, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]
    )


class User(Base):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(_role_enum())
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised by signing out: every session cookie issued before is refused from then on.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where Guichet e-mails this person (notifications), and how: ``notify`` is how often
    # they hear of new items to review (None: the instance's GUICHET_NOTIFY_DEFAULT),
    # ``notify_replies`` whether they hear when their own held question is decided,
    # ``language`` the language of the e-mails.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    notify: Mapped[Frequency | None] = mapped_column(_frequency_enum(), default=None)
    notify_replies: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    language: Mapped[str] = mapped_column(String(8), default="fr", server_default="fr")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def token_corpora(self) -> list[str] | None:
        """The corpora this request is limited to, when it came with a restricted token.

        Set per request by :func:`accounts.tokens.restrict_to_token` on the instance (the
        ORM keeps one instance per database session, and sessions last one request), read
        by :func:`accounts.permissions.can`.
        """
        return getattr(self, "_token_corpora", None)


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
