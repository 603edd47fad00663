"""Secrets every app host must share, kept in the database: created once, by whichever
host starts first, and read by all the others.

The session key signs cookies and CSRF tokens (a cookie from one host works on another
behind the same load balancer), keys the address hashes of the audit log and rate
limits, and encrypts the credentials of sources. ``GUICHET_SECRET_KEY``, when set, takes
precedence (then every host must be given the same value).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, String, Table, select
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, UTCDateTime, utcnow

SESSION_KEY = "session"


class InstanceSecret(Base):
    """A secret of the whole instance (all its hosts), by name."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def shared_secret(*, engine: Engine, name: str, candidate: str) -> str:
    """The secret ``name``; ``candidate`` becomes it when none exists yet. Hosts starting
    at once insert in the same statement and all read back the one that won."""
    table = cast(Table, InstanceSecret.__table__)
    values = {"name": name, "value": candidate, "created_at": utcnow()}
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table).values(values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(values).on_conflict_do_nothing()
    with engine.begin() as connection:
        connection.execute(statement)
    with engine.connect() as connection:
        value = connection.execute(select(table.c.value).where(table.c.name == name))
        return str(value.scalar_one())


def first_session_key(data_dir: Path) -> str:
    """The key a new instance starts with: the one an older install kept in its data folder
    (its sessions and encrypted source credentials stay valid), else a new random one."""
    kept = data_dir / "secret_key"
    if kept.is_file():
        value = kept.read_text(encoding="utf-8").strip()
        if value:
            return value
    return secrets.token_urlsafe(48)
