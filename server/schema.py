"""The schema: every table of the app registered on one metadata, and Alembic upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import accounts.audit  # noqa: F401 - registers the tables on the shared metadata
import accounts.courses  # noqa: F401
import accounts.models  # noqa: F401
import corpora.models  # noqa: F401
import corpora.originals  # noqa: F401
import corpora.sources.models  # noqa: F401
import retrieval.catalog_tables  # noqa: F401
import review.models  # noqa: F401
import server.evaluations.models  # noqa: F401
import server.notifications.models  # noqa: F401
import server.security.keys  # noqa: F401
import server.security.ratelimit  # noqa: F401
from database import Base

MIGRATIONS = Path(__file__).parent / "migrations"
metadata = Base.metadata


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent).

    On SQLite, foreign keys are off while migrations run: a batch migration copies a
    table and drops the old one, and with foreign keys on, that drop deletes (ON DELETE
    CASCADE) every row pointing at it, such as all answers of all corpora. The pragma only
    takes effect outside a transaction, hence before ``begin``.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
