"""Names and roles of people by id, for what shows who acted (reviews, history, stats)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str


def people(*, session: Session, ids: Iterable[int | None]) -> dict[int, Person]:
    """The people with these ids (unknown or None ids are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name, User.role).where(User.id.in_(wanted)))
    return {row.id: Person(row.id, row.name, str(row.role)) for row in rows}
