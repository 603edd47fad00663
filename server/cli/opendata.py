"""`guichet export …` and `guichet import …`: verified answers as open data.

Mounted by server/cli/__init__.py as the ``export`` and ``import`` groups.
"""

from __future__ import annotations

import enum
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from accounts import audit
from corpora.models import Corpus
from corpora.repository import get_corpus
from database import make_engine, make_session_factory, transaction
from server.i18n import Translator, negotiate
from server.opendata.service import (
    OpenDataError,
    datasheet,
    export_verified,
    import_verified,
    index_imported,
    jsonl_lines,
    parse_lines,
    set_open_data,
)
from server.schema import upgrade
from server.settings import Settings

export_app = typer.Typer(
    help="Publier les réponses vérifiées (données ouvertes).", no_args_is_help=True
)
import_app = typer.Typer(
    help="Reprendre les réponses vérifiées d'une autre instance.", no_args_is_help=True
)


@import_app.callback()
def _import_group() -> None:
    """Reprendre les réponses vérifiées d'une autre instance."""
    # A callback keeps `import` a group: one command alone would be run without its name.


console = Console(stderr=True)
tr = Translator(negotiate(os.environ.get("LANG", "fr")[:2]))


class Format(enum.StrEnum):
    jsonl = "jsonl"


def instance_url(settings: Settings) -> str:
    """Where this instance is reached: ``public_url`` when set, else its listening address."""
    return str(settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]{tr('opendata.cli.error')}[/] {message}")
    return typer.Exit(code)


def _corpus(session: object, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)  # type: ignore[arg-type]
    if corpus is None:
        raise _fail(tr("error.unknown_corpus", corpus=name))
    return corpus


def _report(counts: Counter[str]) -> str:
    return ", ".join(f"{tr(f'opendata.reason.{code}')} : {n}" for code, n in sorted(counts.items()))


@export_app.command("allow")
def export_allow(
    corpus: Annotated[str, typer.Option(help="Nom du recueil.")],
    licence: Annotated[
        str | None,
        typer.Option(help="Licence des réponses (« Licence Ouverte 2.0 », « CC BY 4.0 »)."),
    ] = None,
    deny: Annotated[bool, typer.Option("--deny", help="Retire l'autorisation.")] = False,
) -> None:
    """Autorise (ou retire) la publication des réponses vérifiées d'un recueil, sous une licence."""
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            target = _corpus(session, corpus)
            try:
                set_open_data(session=session, corpus=target, allowed=not deny, licence=licence)
                audit.record_action(
                    session=session,
                    event=audit.Event.open_data_changed,
                    by=audit.Actor(id=None, via="cli"),
                    corpus=target.name,
                    published=not deny,
                )
            except OpenDataError as error:
                raise _fail(tr(f"opendata.error.{error.code}", corpus=corpus)) from error
            console.print(
                tr(
                    "opendata.cli.denied" if deny else "opendata.cli.allowed",
                    corpus=corpus,
                    licence=target.licence or "",
                )
            )
    finally:
        engine.dispose()


@export_app.command("verified")
def export_verified_command(
    corpus: Annotated[str, typer.Option(help="Nom du recueil.")],
    format: Annotated[Format, typer.Option("--format", help="Format de sortie.")] = Format.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Fichier (sinon : sortie standard).")
    ] = None,
    datasheet_path: Annotated[
        Path | None,
        typer.Option("--datasheet", help="Écrit aussi la fiche descriptive (Markdown)."),
    ] = None,
) -> None:
    """Exporte les réponses vérifiées d'un recueil ouvert, sans aucune donnée personnelle."""
    settings = Settings()
    base = instance_url(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            target = _corpus(session, corpus)
            try:
                result = export_verified(session=session, corpus=target, instance_url=base)
            except OpenDataError as error:
                raise _fail(tr(f"opendata.error.{error.code}", corpus=corpus)) from error
            sheet = datasheet(corpus=target, result=result, instance_url=base, tr=tr)
    finally:
        engine.dispose()
    lines = jsonl_lines(result.records)
    if output is None:
        sys.stdout.writelines(lines)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
    if datasheet_path is not None:
        datasheet_path.write_text(sheet, encoding="utf-8")
    console.print(
        tr("opendata.cli.exported", count=len(result.records), refused=result.refused_total)
    )
    if result.refused:
        console.print(_report(result.refused))


@import_app.command("verified")
def import_verified_command(
    file: Annotated[Path, typer.Argument(help="Export JSON Lines d'une instance Guichet.")],
    corpus: Annotated[str, typer.Option(help="Recueil qui reçoit les réponses.")],
) -> None:
    """Importe des réponses vérifiées (provenance conservée), réutilisées comme les locales."""
    if not file.is_file():
        raise _fail(tr("opendata.error.no_file", file=str(file)))
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session, open(file, encoding="utf-8") as handle:
            target = _corpus(session, corpus)
            result = import_verified(session=session, corpus=target, records=parse_lines(handle))
        if result.imported:
            from server.state import open_search_index  # loads the embedder: only when needed

            index = open_search_index(settings, engine)
            try:
                index_imported(index=index, corpus=target, imported=result.imported)
            finally:
                index.close()
    finally:
        engine.dispose()
    console.print(
        tr("opendata.cli.imported", count=len(result.imported), skipped=result.skipped_total)
    )
    if result.skipped:
        console.print(_report(result.skipped))
