"""Database set-up: the engine, the session factory, and Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import review.models  # noqa: F401 - registers the tables on the shared metadata
import server.accounts  # noqa: F401
import server.audit  # noqa: F401
import server.courses  # noqa: F401
import server.evaluation  # noqa: F401
import server.ratelimit  # noqa: F401
from corpora import models as _corpora_models  # noqa: F401
from corpora.db import Base

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
