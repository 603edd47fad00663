"""Names and roles of the people who act on reviews.

Accounts belong to ``server/``; ``review/`` never imports it (data flows one way), so
it reads the two columns it shows through a lightweight table clause instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Integer, String, column, select, table
from sqlalchemy.orm import Session

users = table("users", column("id", Integer), column("name", String), column("role", String))


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
    rows = session.execute(
        select(users.c.id, users.c.name, users.c.role).where(users.c.id.in_(wanted))
    )
    return {row.id: Person(row.id, row.name, row.role) for row in rows}
