"""Rate limits: fixed windows counted in the database, so that every worker shares them
(the middleware that applies them to routes is in limits.py).

One row per (bucket, window): an upsert adds one hit and returns the count in the same
statement, which is atomic on PostgreSQL and on SQLite alike. Buckets are hashes of the
caller's identity (user, token or address), never the identity itself.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, Engine, Integer, String, Table, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from database import Base

# Windows never last longer than this; older rows are swept when a window opens.
MAX_WINDOW_S = 3600


class RateLimitWindow(Base):
    """How many hits a bucket took in one fixed window."""

    __tablename__ = "rate_limit_windows"

    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` hits per ``window_s`` seconds for one caller; 0 disables it."""

    name: str
    limit: int
    window_s: int = 60

    def __post_init__(self) -> None:
        if not 0 < self.window_s <= MAX_WINDOW_S:
            raise ValueError(f"window of {self.window_s}s out of range")


def bucket_of(rule: Rule, identity: str) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"{rule.name[:40]}:{digest}"


def _upsert(engine: Engine, bucket: str, window_start: int) -> int:
    table = cast(Table, RateLimitWindow.__table__)
    values = {"bucket": bucket, "window_start": window_start, "hits": 1}
    keys = [table.c.bucket, table.c.window_start]
    add_one = {"hits": table.c.hits + 1}
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table).values(values)
        statement = statement.on_conflict_do_update(index_elements=keys, set_=add_one)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(values)
        statement = statement.on_conflict_do_update(index_elements=keys, set_=add_one)
    with engine.begin() as connection:
        hits = int(connection.execute(statement.returning(table.c.hits)).scalar_one())
        if hits == 1:
            connection.execute(
                delete(table).where(table.c.window_start < window_start - MAX_WINDOW_S)
            )
    return hits


def peek(engine: Engine, rule: Rule, identity: str, *, now: float | None = None) -> int | None:
    """Like :func:`hit` without counting: the seconds to wait when the budget is spent."""
    if rule.limit <= 0:
        return None
    now = time.time() if now is None else now
    window_start = int(now // rule.window_s) * rule.window_s
    with engine.connect() as connection:
        hits = connection.execute(
            select(RateLimitWindow.hits).where(
                RateLimitWindow.bucket == bucket_of(rule, identity),
                RateLimitWindow.window_start == window_start,
            )
        ).scalar()
    if hits is None or hits < rule.limit:
        return None
    return max(1, math.ceil(window_start + rule.window_s - now))


def hit(engine: Engine, rule: Rule, identity: str, *, now: float | None = None) -> int | None:
    """Count one hit; return the seconds to wait when over the limit, else None."""
    if rule.limit <= 0:
        return None
    now = time.time() if now is None else now
    window_start = int(now // rule.window_s) * rule.window_s
    hits = _upsert(engine, bucket_of(rule, identity), window_start)
    if hits <= rule.limit:
        return None
    return max(1, math.ceil(window_start + rule.window_s - now))
