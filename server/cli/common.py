"""What every `guichet` command shares: the command groups, the consoles, the translator,
the settings, the database, the search index, and failing with a clear message."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from corpora.originals import adopt_files
from database import make_engine, make_session_factory
from server.i18n import Translator, negotiate
from server.schema import upgrade
from server.settings import Settings

if TYPE_CHECKING:
    # Imported when used: loading the embedder stack is slow for `--help`.
    from retrieval.index import SearchIndex

app = typer.Typer(
    help="Guichet : assistant de service public avec relecture humaine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
engine_app = typer.Typer(help="Le moteur de génération embarqué (vLLM CPU).", no_args_is_help=True)
corpus_app = typer.Typer(help="Les recueils de documents.", no_args_is_help=True)
users_app = typer.Typer(help="Les comptes.", no_args_is_help=True)
eval_app = typer.Typer(help="Mesures de qualité sur un jeu de questions.", no_args_is_help=True)
db_app = typer.Typer(help="La base de données.", no_args_is_help=True)
notify_app = typer.Typer(
    help="Les courriels (serveur SMTP de l'administration).", no_args_is_help=True
)
bench_app = typer.Typer(
    help="Mesures de performance, côte à côte dans un même passage.", no_args_is_help=True
)

console = Console(stderr=True)
out = Console()
tr = Translator(negotiate(os.environ.get("LANG", "fr")[:2]))


def load_settings() -> Settings:
    """The settings from the environment, with logging set up as they say."""
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Every readiness poll and engine request would otherwise be logged at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]{tr('cli.error')} :[/] {message}")
    return typer.Exit(code)


@contextmanager
def database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions of the configured database, migrated first; originals an older install
    kept on this host's disk are moved into it (as when the app starts), so that a
    command indexing them finds them."""
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    adopt_files(sessions=sessions)
    try:
        yield sessions
    finally:
        engine.dispose()


@contextmanager
def search_index(settings: Settings) -> Iterator[SearchIndex]:
    """The search index of the configured instance (catalog in its migrated database),
    closed with its database connections when the command is done."""
    from server.state import open_database, open_search_index

    engine, _ = open_database(settings)
    index = open_search_index(settings, engine)
    try:
        yield index
    finally:
        index.close()
        engine.dispose()


def files_of(paths: list[Path]) -> list[Path]:
    """The files named, and those under the folders named (hidden ones left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            found.append(path)
        else:
            raise fail(tr("cli.file_missing", path=path))
    return found


def dataset_folder(dataset: Path) -> Path:
    from retrieval.datasets import is_dataset

    if not is_dataset(dataset):
        raise fail(tr("cli.dataset_missing", path=dataset))
    return dataset


def print_figures(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            out.print(f"{key:>30} : {value}")
