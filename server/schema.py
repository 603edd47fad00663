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
import corpora.sources.models  # noqa: F401
import review.models  # noqa: F401
import server.evaluations.models  # noqa: F401
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
    """Bring the schema to the latest migration (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
