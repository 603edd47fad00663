"""Rate limits: fixed windows counted in the database, so that every worker shares them,
and the middleware that applies them to the routes that ask for it.

One row per (bucket, window): an upsert adds one hit and returns the count in the same
statement, which is atomic on PostgreSQL and on SQLite alike. Buckets are hashes of the
caller's identity (user, token or address), never the identity itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, cast

from anyio import to_thread
from sqlalchemy import BigInteger, Engine, Integer, String, Table, delete
from sqlalchemy.orm import Mapped, mapped_column
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from database import Base
from server.security.headers import refusal
from server.security.sessions import address_hash

log = logging.getLogger(__name__)
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


class RateLimitMiddleware:
    """Counts the requests of the routes in ``Security.rate_limited``; 429 past the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        rule = application.state.security.rate_limited.get((scope["method"], scope.get("path", "")))
        if rule is None or rule.limit <= 0:
            await self.app(scope, receive, send)
            return
        identity = caller_identity(application, scope)
        engine = application.state.guichet.db
        wait = await to_thread.run_sync(hit, engine, rule, identity)
        if wait is not None:
            log.info("rate limit %s reached", rule.name)
            response = refusal(Request(scope), 429, "rate_limited", {"Retry-After": str(wait)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def caller_identity(app: Any, scope: Scope) -> str:
    """Who to count: the token, the signed-in user, else the (hashed) address.

    A citizen's session id is not used: dropping the cookie would reset the count.
    """
    headers = Headers(scope=scope)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
    user_id = scope.get("session", {}).get("user_id")
    if isinstance(user_id, int):
        return f"user:{user_id}"
    return "address:" + address_hash(app, scope)
