"""Request and response bodies of the accounts API (/api/v1/me, courses, admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

# Ids in paths stay within the databases' 32-bit integers (larger ones are simply unknown).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
RoleName = Literal["admin", "agent", "teacher", "student"]
CorpusName = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")


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


class JoinIn(BaseModel):
    code: str = Field(min_length=1, max_length=32, description="The course's invitation code.")


class JoinedOut(BaseModel):
    corpus: str
    title: str


class InvitationOut(BaseModel):
    corpus: str
    code: str
    created_at: datetime


class MemberOut(BaseModel):
    user_id: int
    name: str
    role: RoleName
    membership: Literal["owner", "student"]


class MembersOut(BaseModel):
    members: list[MemberOut]


class StudentIn(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="The student's account name.")


class UserOut(BaseModel):
    id: int
    name: str
    role: RoleName
    active: bool
    created_at: datetime


class UsersOut(BaseModel):
    users: list[UserOut]


class UserIn(BaseModel):
    name: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
    role: RoleName
    password: str | None = Field(default=None, min_length=10, max_length=200)


class UserPatch(BaseModel):
    role: RoleName | None = None
    active: bool | None = None


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
