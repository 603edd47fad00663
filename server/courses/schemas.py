"""Request and response bodies of the courses API (/api/v1/courses)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from server.accounts.schemas import RoleName


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
