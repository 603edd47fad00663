"""Request and response bodies of the accounts API (/api/v1/me and its tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RoleName = Literal["admin", "agent", "teacher", "student"]


class MembershipOut(BaseModel):
    corpus: str
    title: str
    membership: Literal["owner", "student"]


class MeOut(BaseModel):
    id: int
    name: str
    role: RoleName
    corpora: list[MembershipOut]
    token_corpora: list[str] | None = Field(
        default=None, description="When called with a token limited to some corpora: those."
    )


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)
    revoke_tokens: bool = Field(
        default=False, description="Also revoke every API token of the account."
    )


class TokenIn(BaseModel):
    label: str = Field(default="", max_length=80, description="What the token is for.")
    days: int | None = Field(
        default=90, ge=1, le=3650, description="Days before it expires; null: never."
    )
    corpora: list[str] | None = Field(
        default=None,
        max_length=50,
        description="Limit the token to these corpora; null: every corpus the account reaches.",
    )


class TokenOut(BaseModel):
    id: int
    label: str
    role: RoleName | None
    corpora: list[str] | None
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokensOut(BaseModel):
    tokens: list[TokenOut]


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself: shown once, never again.")


class NotificationsIn(BaseModel):
    email: str | None = Field(
        default=None, max_length=254, description="Where Guichet e-mails you; null: nowhere."
    )
    notify: Literal["immediate", "hourly", "daily", "off"] | None = Field(
        default=None,
        description="How you hear of new items to review; null: the instance's default "
        "(GUICHET_NOTIFY_DEFAULT).",
    )
    notify_replies: bool = Field(
        default=True, description="E-mail me the decision on my own held questions."
    )
    language: Literal["fr", "en"] = Field(default="fr", description="Language of the e-mails.")


class NotificationsOut(NotificationsIn):
    email_enabled: bool = Field(description="Whether this instance sends e-mail at all.")
    notify_default: Literal["immediate", "hourly", "daily", "off"]
