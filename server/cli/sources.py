"""`guichet sources add|list|remove` and `guichet sync CORPUS`: sources kept in sync.

`guichet sync` runs each source of the corpus in the foreground, with a progress bar, and
prints what each run did; with ``--json``, the same keys as the API's ``RunOut``. It exits
with 2 when a run failed as a whole, waits for a confirmation of removals, or was already
running elsewhere (a page or file that failed alone is reported, not fatal).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from corpora.repository import CorpusError, get_corpus
from corpora.sources.models import Source
from corpora.sources.repository import (
    all_sources,
    get_source,
    request_run,
    sources_of,
)
from corpora.sources.sync import RunReport, SyncBusy, Synchronizer
from database import transaction
from server.answers import ahead
from server.cli.common import app, console, database, fail, load_settings, out, search_index, tr
from server.cli.users import SHELL
from server.documents.lifecycle import document_lifecycle
from server.sources import service
from server.sources.runner import run_and_record, secret_box, synchronizer
from server.sources.schemas import RunOut, SourceIn

sources_app = typer.Typer(help="Les sources synchronisées des recueils.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def sources_add(
    corpus: Annotated[str, typer.Argument(help="Nom du recueil.")],
    website: Annotated[
        str | None, typer.Option(help="Page de départ ou plan du site (.xml).")
    ] = None,
    folder: Annotated[Path | None, typer.Option(help="Dossier du serveur.")] = None,
    webdav: Annotated[str | None, typer.Option(help="Adresse d'un dossier WebDAV.")] = None,
    every: Annotated[
        str | None, typer.Option(help="Fréquence : 30m, 6h, 1d (défaut : GUICHET_SYNC_EVERY).")
    ] = None,
    max_pages: Annotated[int | None, typer.Option(help="Site : pages lues au plus.")] = None,
    max_depth: Annotated[int | None, typer.Option(help="Site : liens suivis au plus.")] = None,
    delay: Annotated[
        float | None, typer.Option(help="Secondes entre deux requêtes au serveur.")
    ] = None,
    username: Annotated[str | None, typer.Option(help="WebDAV : identifiant.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="GUICHET_SOURCE_PASSWORD",
            help="WebDAV : mot de passe (sinon demandé, sans écho).",
        ),
    ] = None,
) -> None:
    """Ajoute une source à un recueil : un site web, un dossier ou un partage WebDAV."""
    given = [(k, v) for k, v in (("website", website), ("folder", folder), ("webdav", webdav)) if v]
    if len(given) != 1:
        raise fail(tr("cli.one_location"))
    kind, location = given[0]
    if kind == "webdav" and username and password is None:
        password = typer.prompt(tr("cli.password_prompt"), hide_input=True)
    if kind == "folder":
        location = Path(str(location)).expanduser().absolute()
    settings = load_settings()
    with database(settings) as sessions, transaction(sessions) as session:
        target = get_corpus(session=session, name=corpus)
        if target is None:
            raise fail(tr("error.unknown_corpus", corpus=corpus))
        try:
            data = SourceIn(
                kind=kind,
                location=str(location),
                every=every,
                max_pages=max_pages,
                max_depth=max_depth,
                delay_s=delay,
                username=username,
                password=password,
            )
            source = service.add(
                session=session,
                corpus=target,
                data=data,
                by=SHELL,
                settings=settings,
                secrets=secret_box(settings),
            )
        except ValidationError as error:
            fields = ", ".join(str(e["loc"][-1]) for e in error.errors())
            raise fail(tr("error.invalid_request", fields=fields)) from error
        except CorpusError as error:
            raise fail(tr(f"error.{error.code}", **error.details)) from error
        source_id = source.id
    out.print(tr("cli.source_added", id=source_id, corpus=corpus))


@sources_app.command("list")
def sources_list(
    corpus: Annotated[str | None, typer.Argument(help="Nom du recueil (tous sinon).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Les sources, leur dernière synchronisation et la prochaine."""
    settings = load_settings()
    with database(settings) as sessions, transaction(sessions) as session:
        if corpus is None:
            found = all_sources(session=session)
        else:
            target = get_corpus(session=session, name=corpus)
            if target is None:
                raise fail(tr("error.unknown_corpus", corpus=corpus))
            found = sources_of(session=session, corpus=target)
        views = [service.source_out(session, s, tr) for s in found]
    if as_json:
        print(
            json.dumps({"sources": [v.model_dump(mode="json") for v in views]}, ensure_ascii=False)
        )
        return
    if not views:
        out.print(tr("cli.no_sources"))
    for view in views:
        last = view.last_run
        state = tr("sources.never_run")
        if last is not None and last.finished_at is not None:
            state = (
                f"{tr('sources.status.' + last.status)} {tr.datetime(last.finished_at)} — "
                + tr(
                    "sources.counts",
                    added=last.added,
                    updated=last.updated,
                    unchanged=last.unchanged,
                    removed=last.removed,
                    failed=last.failed,
                )
            )
        out.print(
            f"[bold]{view.id}[/] {view.corpus} {view.kind} {view.location} "
            f"({tr('sources.every', every=view.every)}, {view.documents} doc.)\n    {state}\n    "
            + tr("sources.next_run", when=tr.datetime(view.next_run_at)),
            markup=True,
            highlight=False,
        )


@sources_app.command("remove")
def sources_remove(source_id: Annotated[int, typer.Argument(help="Numéro de la source.")]) -> None:
    """Retire une source ; les documents qu'elle a importés restent dans le recueil."""
    settings = load_settings()
    with database(settings) as sessions, transaction(sessions) as session:
        try:
            source = get_source(session=session, source_id=source_id)
        except CorpusError as error:
            raise fail(tr(f"error.{error.code}", **error.details)) from error
        count = service.remove(session=session, source=source, by=SHELL)
    out.print(tr("cli.source_removed", id=source_id, count=count))


@app.command("sync")
def sync(
    corpus: Annotated[str, typer.Argument(help="Nom du recueil.")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    confirm_removals: Annotated[
        bool, typer.Option(help="Autorise les retraits au-delà du seuil (après vérification).")
    ] = False,
    source: Annotated[int | None, typer.Option(help="Une seule source (son numéro).")] = None,
) -> None:
    """Synchronise maintenant les sources d'un recueil (barre de progression)."""
    settings = load_settings()
    with database(settings) as sessions:
        with transaction(sessions) as session:
            target = get_corpus(session=session, name=corpus)
            if target is None:
                raise fail(tr("error.unknown_corpus", corpus=corpus))
            ids = [s.id for s in sources_of(session=session, corpus=target)]
            ids = [i for i in ids if source is None or i == source]
            if not ids:
                raise fail(tr("cli.no_sources_for", corpus=corpus))
            if confirm_removals:
                for source_id in ids:
                    request_run(
                        session=session,
                        source=session.get_one(Source, source_id),
                        confirm_removals=True,
                    )
        with search_index(settings) as index:
            documents = document_lifecycle(sessions=sessions, index=index, settings=settings)
            runner = synchronizer(sessions=sessions, documents=documents, settings=settings)
            runs: list[RunOut] = []
            trouble = False
            for source_id in ids:
                try:
                    report = _run_with_bar(runner, sessions, source_id)
                except SyncBusy:
                    console.print(f"[yellow]![/] {tr('cli.source_busy', id=source_id)}")
                    trouble = True
                    continue
                with transaction(sessions) as session:
                    next_run = session.get_one(Source, source_id).next_run_at
                view = service.run_out(report, tr, next_run_at=next_run)
                runs.append(view)
                trouble = trouble or view.status in ("failed", "held")
                if not as_json:
                    _print_run(view)
            ahead.wait()  # new versions' passages prepared while the index is open
    if as_json:
        print(
            json.dumps(
                {"corpus": corpus, "runs": [r.model_dump(mode="json") for r in runs]},
                ensure_ascii=False,
            )
        )
    if trouble:
        raise typer.Exit(2)


def _run_with_bar(
    runner: Synchronizer, sessions: sessionmaker[Session], source_id: int
) -> RunReport:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def show(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{source_id} · {phase}", total=total)
            bar.update(tasks[phase], completed=done, total=total)

        return run_and_record(runner, sessions, source_id, trigger="cli", progress=show)


def _print_run(view: RunOut) -> None:
    out.print(
        tr(
            "cli.sync_done",
            id=view.source_id,
            location=view.location,
            status=tr(f"sources.status.{view.status}"),
            duration=tr.number(view.duration_s or 0, 1),
        ),
        highlight=False,
    )
    out.print(
        "    "
        + tr(
            "sources.counts",
            added=view.added,
            updated=view.updated,
            unchanged=view.unchanged,
            removed=view.removed,
            failed=view.failed,
        ),
        highlight=False,
    )
    if view.error is not None:
        out.print("    [red]✗[/] " + tr("sources.failed_run", message=view.error.message))
    for failure in view.failures:
        out.print(f"    [red]✗[/] {failure.item} : {failure.message}", highlight=False)
    if view.status == "held":
        out.print(
            "    [yellow]![/] "
            + tr("cli.sync_held", id=view.source_id, count=len(view.held_removals))
        )
        for key in view.held_removals:
            out.print(f"      - {key}", highlight=False)
