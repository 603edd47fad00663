"""`guichet corpus create`, `guichet ingest` and `guichet demo`: corpora and their documents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from accounts.courses import create_corpus_recorded
from corpora.models import CorpusKind, Document, DocumentStatus, ReviewPolicy
from corpora.repository import CorpusError, create_corpus, get_corpus
from corpora.uploads import UploadError
from database import transaction
from server.answers import ahead
from server.cli.common import (
    app,
    console,
    corpus_app,
    database,
    fail,
    files_of,
    load_settings,
    out,
    search_index,
    tr,
)
from server.cli.users import SHELL
from server.documents.lifecycle import document_lifecycle
from server.settings import Settings

# A claim held this long by a process on another machine is taken as abandoned.
STALE_CLAIM = timedelta(minutes=10)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from retrieval.index import SearchIndex


@corpus_app.command("create")
def corpus_create(
    name: str,
    kind: Annotated[CorpusKind, typer.Option(help="procedures ou course.")],
    review: Annotated[ReviewPolicy, typer.Option(help="never, flagged ou always.")],
    title: Annotated[str | None, typer.Option(help="Titre affiché.")] = None,
) -> None:
    """Crée un recueil de documents."""
    settings = load_settings()
    with database(settings) as sessions, transaction(sessions) as session:
        try:
            create_corpus_recorded(
                session=session,
                name=name,
                title=title or name,
                kind=kind,
                review_policy=review,
                by=SHELL,
            )
        except CorpusError as error:
            raise fail(tr(f"error.{error.code}", **error.details)) from error
    out.print(tr("cli.corpus_created", name=name))


def ingest_files(settings: Settings, corpus: str, paths: list[Path], index: SearchIndex) -> int:
    """Upload then index files in the foreground, through the instance's document lifecycle
    (so verified answers citing a replaced version are withdrawn); returns the failures.

    Versions that a killed run (or app) left half-indexed are queued again first and
    indexed here; a file counts as done only when its document serves search.
    """
    failures = 0
    accepted_ids: dict[Path, int] = {}
    with database(settings) as sessions:
        documents = document_lifecycle(sessions=sessions, index=index, settings=settings)
        recovered = documents.requeue_stale(older_than=STALE_CLAIM)
        if recovered:
            console.print(tr("cli.ingest_recovered", count=recovered))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            overall = progress.add_task("Documents", total=len(paths))
            for path in paths:
                with transaction(sessions) as session:
                    target = get_corpus(session=session, name=corpus)
                    if target is None:
                        raise fail(tr("error.unknown_corpus", corpus=corpus))
                    try:
                        accepted = documents.accept(
                            session=session,
                            corpus=target,
                            filename=path.name,
                            data=path.read_bytes(),
                        )
                    except UploadError as error:
                        failures += 1
                        limit = tr.megabytes(settings.max_upload_mb)
                        message = tr(f"upload.{error.code}", filename=error.filename, limit=limit)
                        console.print("[red]✗[/] " + message)
                        progress.advance(overall)
                        continue
                accepted_ids[path] = accepted.document_id
                if not accepted.unchanged or accepted.status != DocumentStatus.indexed:
                    step = progress.add_task(f"  {path.name}", total=None)

                    def show(phase: str, done: int, total: int, step: TaskID = step) -> None:
                        progress.update(step, completed=done, total=total or None)

                    documents.index_pending(show)
                    progress.remove_task(step)
                progress.advance(overall)
            documents.index_pending()
        failures += _report_outcomes(sessions, accepted_ids)
    return failures


def _report_outcomes(sessions: sessionmaker[Session], accepted: dict[Path, int]) -> int:
    """Print why each accepted file does not serve search; return how many."""
    failures = 0
    with sessions() as session:
        for path, document_id in accepted.items():
            document = session.get_one(Document, document_id)
            if document.status == DocumentStatus.indexed:
                continue
            failures += 1
            if document.status == DocumentStatus.failed:
                code = document.error_code or "internal"
                message = tr(f"upload.{code}", filename=path.name, limit="")
            else:
                message = tr("cli.ingest_still_pending", filename=path.name)
            console.print("[red]✗[/] " + message)
    return failures


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers ou dossiers à indexer.")],
    corpus: Annotated[str, typer.Option(help="Nom du recueil.")],
) -> None:
    """Ajoute des documents à un recueil et les indexe (barre de progression)."""
    settings = load_settings()
    files = files_of(paths)
    with search_index(settings) as index:
        failures = ingest_files(settings, corpus, files, index)
        _prepare_answers()  # before the index closes: the work reads it
    out.print(tr("cli.ingested", done=len(files) - failures, failed=failures))
    if failures:
        raise typer.Exit(2)


@app.command()
def demo() -> None:
    """Crée les recueils de démonstration et indexe leurs documents (idempotent)."""
    from corpora.demo_corpora import DEMO_CORPORA

    settings = load_settings()
    with search_index(settings) as index:
        for spec in DEMO_CORPORA:
            with database(settings) as sessions, transaction(sessions) as session:
                if get_corpus(session=session, name=spec.name) is None:
                    create_corpus(
                        session=session,
                        name=spec.name,
                        title=spec.title,
                        kind=spec.kind,
                        review_policy=spec.review,
                    )
            ingest_files(settings, spec.name, files_of([spec.folder]), index)
        _prepare_answers()  # before the index closes: the work reads it
    out.print(tr("cli.demo_ready"))


def _prepare_answers() -> None:
    """Wait, saying so, for the new versions' units to be embedded (server/answers/ahead.py):
    the first questions are then answered at once."""
    with console.status(tr("cli.preparing_answers")):
        ahead.wait()
