"""Request and response bodies of the administration API (/api/v1/admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from server.accounts.schemas import RoleName

CorpusName = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")


class UserOut(BaseModel):
    id: int
    name: str
    role: RoleName
    active: bool
    created_at: datetime
    email: str | None = Field(default=None, description="Where Guichet e-mails this person.")


class UsersOut(BaseModel):
    users: list[UserOut]


class UserIn(BaseModel):
    name: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
    role: RoleName
    password: str | None = Field(default=None, min_length=10, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class UserPatch(BaseModel):
    role: RoleName | None = None
    active: bool | None = None
    email: str | None = Field(
        default=None, max_length=254, description="New address; an empty string removes it."
    )


class CorpusIn(BaseModel):
    name: str = CorpusName
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["procedures", "course"]
    review_policy: Literal["never", "flagged", "always"]


class CreatedCorpusOut(BaseModel):
    name: str
    title: str
    kind: Literal["procedures", "course"]
    review_policy: Literal["never", "flagged", "always"]


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    event: str
    actor_id: int | None
    subject_id: int | None
    corpus: str | None
    token_id: int | None
    detail: dict[str, object]


class AuditOut(BaseModel):
    events: list[AuditEventOut]


class OutboxLineOut(BaseModel):
    id: int
    kind: str
    recipient: str = Field(description="Account name and masked address, never the address.")
    state: Literal["queued", "sending", "sent", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


class OutboxOut(BaseModel):
    enabled: bool = Field(description="Whether an SMTP server is set (GUICHET_SMTP_HOST).")
    counts: dict[str, int]
    messages: list[OutboxLineOut]
