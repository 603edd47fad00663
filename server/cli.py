"""The `guichet` command line: serve, manage the engine, corpora, users, evaluations."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from corpora.db import make_engine, make_session_factory, transaction
from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import CorpusError, create_corpus, get_corpus
from corpora.uploads import Index, Ingestor, UploadError, accept_upload
from server.accounts import AccountError, Role, create_user_recorded, issue_token_recorded
from server.cli_accounts import SHELL
from server.cli_accounts import register as register_account_commands
from server.cli_opendata import export_app, import_app
from server.courses import add_member_recorded, create_corpus_recorded
from server.database import upgrade
from server.engine import EmbeddedEngine, EngineError, packaged_gguf_path, prepare_model
from server.i18n import Translator, negotiate
from server.settings import Settings

if TYPE_CHECKING:
    # Imported lazily at run time: loading the embedder stack is slow for `--help`.
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
app.add_typer(engine_app, name="engine")
app.add_typer(corpus_app, name="corpus")
app.add_typer(users_app, name="users")
app.add_typer(eval_app, name="eval")
app.add_typer(db_app, name="db")
register_account_commands(users_app=users_app, corpus_app=corpus_app)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")

console = Console(stderr=True)
out = Console()
tr = Translator(negotiate(os.environ.get("LANG", "fr")[:2]))


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Every readiness poll and engine request would otherwise be logged at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return settings


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]{tr('cli.error')} :[/] {message}")
    return typer.Exit(code)


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _index(settings: Settings) -> SearchIndex:
    from server.search import open_search_index

    return open_search_index(settings)


# -- the engine -----------------------------------------------------------------------


def _prepare(settings: Settings) -> Path:
    try:
        gguf = packaged_gguf_path(settings.engine_chat_gguf)
        return prepare_model(
            gguf_path=gguf,
            target_dir=settings.engine_model_dir,
            progress=lambda msg: console.print(f"  {msg}"),
        )
    except EngineError as error:
        raise _fail(str(error)) from error


def _start_engine(settings: Settings) -> EmbeddedEngine:
    model_dir = _prepare(settings)
    engine = EmbeddedEngine(
        python=settings.engine_python,
        model_dir=model_dir,
        served_model_name=settings.llm_model,
        port=settings.engine_port,
        log_path=settings.data_dir / "logs" / "engine.log",
        die_with_parent=True,
    )
    console.print(tr("cli.engine_starting", model=settings.llm_model))
    try:
        engine.start()
        with Progress(
            TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        ) as progress:
            task = progress.add_task("démarrage", total=None)
            engine.wait_ready(
                timeout_s=settings.engine_start_timeout_s,
                on_progress=lambda elapsed, phase: progress.update(
                    task,
                    description={
                        "starting": "Chargement de vLLM",
                        "loading": "Chargement du modèle",
                        "ready": "Prêt",
                    }.get(phase, phase),
                ),
            )
    except EngineError as error:
        engine.stop()
        raise _fail(tr("cli.engine_crashed", detail=str(error))) from error
    console.print(tr("cli.engine_ready", seconds=f"{engine.ready_after_s or 0:.0f}"))
    return engine


def _watch(engine: EmbeddedEngine) -> None:
    """Report a crashed engine loudly instead of letting answers fail silently."""

    def run() -> None:
        stop = threading.Event()
        while not stop.wait(5):
            code = engine.poll()
            if code is not None:
                logging.getLogger("guichet.engine").error(
                    "the embedded engine exited with code %s; answers are queued for agents "
                    "until it is back. Last lines of its log:\n%s",
                    code,
                    engine.log_tail(),
                )
                console.print(tr("cli.engine_crashed", detail=f"code {code}"))
                return

    threading.Thread(target=run, name="engine-watch", daemon=True).start()


@engine_app.command("prepare")
def engine_prepare() -> None:
    """Convertit le modèle packagé (GGUF) pour vLLM, une seule fois."""
    path = _prepare(_settings())
    out.print(str(path))


@engine_app.command("serve")
def engine_serve() -> None:
    """Démarre seulement le moteur vLLM embarqué, au premier plan."""
    settings = _settings()
    engine = _start_engine(settings)
    out.print(engine.base_url)
    try:
        while engine.poll() is None:
            threading.Event().wait(1)
        raise _fail(tr("cli.engine_crashed", detail=engine.log_tail()))
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
    workers: Annotated[int, typer.Option(help="Processus de l'application.")] = 1,
) -> None:
    """Démarre l'application web (et le moteur embarqué si GUICHET_LLM_BASE_URL est vide)."""
    import uvicorn

    from server.app import create_app
    from server.database import upgrade

    settings = _settings()
    engine = None if settings.llm_base_url else _start_engine(settings)
    if engine is not None:
        _watch(engine)
    try:
        host, port = host or settings.host, port or settings.port
        console.print(tr("cli.serving", url=f"http://{host}:{port}/"))
        if workers > 1:
            # Migrate once here, not in every worker at the same moment.
            db = make_engine(settings.sqlalchemy_url)
            upgrade(db)
            db.dispose()
            # Each worker builds its own app from the same GUICHET_* environment; nothing
            # that must be shared lives in process memory (see docs/performance.md).
            os.environ["GUICHET_LLM_BASE_URL"] = settings.effective_llm_base_url
            uvicorn.run(
                "server.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
            )
        else:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        if engine is not None:
            engine.stop()


# -- corpora and documents ------------------------------------------------------------


@corpus_app.command("create")
def corpus_create(
    name: str,
    kind: Annotated[CorpusKind, typer.Option(help="procedures ou course.")],
    review: Annotated[ReviewPolicy, typer.Option(help="never, flagged ou always.")],
    title: Annotated[str | None, typer.Option(help="Titre affiché.")] = None,
) -> None:
    """Crée un recueil de documents."""
    settings = _settings()
    with _database(settings) as sessions, transaction(sessions) as session:
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
            raise _fail(tr(f"error.{error.code}", **error.details)) from error
    out.print(tr("cli.corpus_created", name=name))


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            found.append(path)
        else:
            raise _fail(tr("cli.file_missing", path=path))
    return found


def ingest_files(settings: Settings, corpus: str, paths: list[Path], index: Index) -> int:
    """Upload then index files in the foreground; returns the number of failures."""
    failures = 0
    with _database(settings) as sessions:
        ingestor = Ingestor(
            sessions=sessions,
            index=index,
            max_bytes=settings.max_upload_bytes,
        )
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
                        raise _fail(tr("error.unknown_corpus", corpus=corpus))
                    try:
                        accepted = accept_upload(
                            session=session,
                            corpus=target,
                            filename=path.name,
                            data=path.read_bytes(),
                            uploads_dir=settings.uploads_dir,
                            max_bytes=settings.max_upload_bytes,
                        )
                    except UploadError as error:
                        failures += 1
                        console.print(
                            "[red]✗[/] "
                            + tr(
                                f"upload.{error.code}",
                                filename=error.filename,
                                limit=f"{settings.max_upload_mb:g} Mo",
                            )
                        )
                        progress.advance(overall)
                        continue
                if not accepted.unchanged:
                    version_id = ingestor.claim_next()
                    step = progress.add_task(f"  {path.name}", total=None)

                    def show(phase: str, done: int, total: int, step: TaskID = step) -> None:
                        progress.update(step, completed=done, total=total or None)

                    while version_id is not None:
                        done = ingestor.process(version_id, show)
                        if done.status == "failed":
                            failures += 1
                            console.print(
                                "[red]✗[/] "
                                + tr(f"upload.{done.error_code}", filename=path.name, limit="")
                            )
                        version_id = ingestor.claim_next()
                    progress.remove_task(step)
                progress.advance(overall)
    return failures


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers ou dossiers à indexer.")],
    corpus: Annotated[str, typer.Option(help="Nom du recueil.")],
) -> None:
    """Ajoute des documents à un recueil et les indexe (barre de progression)."""
    settings = _settings()
    files = _files(paths)
    failures = ingest_files(settings, corpus, files, _index(settings))
    out.print(tr("cli.ingested", done=len(files) - failures, failed=failures))
    if failures:
        raise typer.Exit(2)


@app.command()
def demo() -> None:
    """Crée les recueils de démonstration et indexe leurs documents (idempotent)."""
    from corpora.demo_corpora import DEMO_CORPORA

    settings = _settings()
    index = _index(settings)
    for spec in DEMO_CORPORA:
        with _database(settings) as sessions, transaction(sessions) as session:
            if get_corpus(session=session, name=spec.name) is None:
                create_corpus(
                    session=session,
                    name=spec.name,
                    title=spec.title,
                    kind=spec.kind,
                    review_policy=spec.review,
                )
        ingest_files(settings, spec.name, _files([spec.folder]), index)
    out.print(tr("cli.demo_ready"))


# -- accounts -------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[Role, typer.Option(help="admin, agent, teacher ou student.")],
    corpus: Annotated[list[str] | None, typer.Option(help="Recueil rattaché (répétable).")] = None,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Affiche un jeton d'API en dernière ligne.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(envvar="GUICHET_NEW_PASSWORD", help="Mot de passe (sinon : jeton seulement)."),
    ] = None,
) -> None:
    """Crée un compte, rattaché à des recueils (propriétaire ou élève selon le rôle)."""
    settings = _settings()
    with _database(settings) as sessions, transaction(sessions) as session:
        try:
            user = create_user_recorded(
                session=session, name=name, role=role, password=password, by=SHELL
            )
            for corpus_name in corpus or []:
                target = get_corpus(session=session, name=corpus_name)
                if target is None:
                    raise _fail(tr("error.unknown_corpus", corpus=corpus_name))
                add_member_recorded(
                    session=session,
                    corpus=target,
                    user=user,
                    membership="student" if role == Role.student else "owner",
                    by=SHELL,
                )
        except AccountError as error:
            raise _fail(tr(f"error.{error.code}")) from error
        token = None
        if print_token:
            token, _ = issue_token_recorded(
                session=session, user=user, days=365, corpora=None, label="cli", by=SHELL
            )
    console.print(tr("cli.user_created", name=name, role=role.value))
    if token:
        print(token)


# -- database and evaluations ---------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Met le schéma de la base à jour (migrations Alembic)."""
    settings = _settings()
    with _database(settings):
        pass
    out.print(tr("cli.database_ready"))


def _dataset(dataset: Path) -> Path:
    from retrieval.datasets import is_dataset

    if not is_dataset(dataset):
        raise _fail(tr("cli.dataset_missing", path=dataset))
    return dataset


def _print_figures(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            out.print(f"{key:>30} : {value}")


def _record(
    settings: Settings, kind: str, dataset: Path, figures: dict[str, object], model: str | None
) -> None:
    from server.evaluation import record_run

    with _database(settings) as sessions, transaction(sessions) as session:
        record_run(
            session=session, kind=kind, dataset=dataset.resolve().name, figures=figures, model=model
        )


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[Path, typer.Argument(help="Dossier du jeu (documents/ + questions.jsonl).")],
    k: Annotated[int, typer.Option(help="Nombre de passages retenus.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Mesure la recherche (hit@1, hit@5, MRR, latence) sur un jeu de questions."""
    from retrieval.eval import evaluate_retrieval
    from server.evaluation import corpus_name

    settings = _settings()
    _dataset(dataset)
    result = evaluate_retrieval(
        dataset=dataset, index=_index(settings), corpus=corpus_name(dataset), k=k
    )
    _record(settings, "retrieval", dataset, result, settings.embedding_model)
    _print_figures(result, as_json)


@eval_app.command("answers")
def eval_answers(
    dataset: Annotated[Path, typer.Argument(help="Dossier du jeu (documents/ + questions.jsonl).")],
    limit: Annotated[int | None, typer.Option(help="Questions répondables (réparties).")] = None,
    unanswerable_from: Annotated[
        Path | None,
        typer.Option(
            help="Jeu dont les questions, hors sujet ici, servent de questions sans réponse."
        ),
    ] = None,
    unanswerable: Annotated[int, typer.Option(help="Combien en prendre.")] = 50,
    concurrency: Annotated[int, typer.Option(help="Questions posées en parallèle.")] = 8,
    details: Annotated[
        Path | None,
        typer.Option(help="Fichier JSON Lines : question, état, réponse et sources de chacune."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Pose chaque question au vrai pipeline (moteur embarqué si GUICHET_LLM_BASE_URL est vide)."""
    import asyncio

    from server.app import build_state
    from server.evaluation import evaluate_answers

    settings = _settings()
    _dataset(dataset)
    if unanswerable_from is not None:
        _dataset(unanswerable_from)
    engine = None if settings.llm_base_url else _start_engine(settings)
    state = build_state(settings)
    try:
        with Progress(
            TextColumn("Questions"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("questions", total=None)

            async def run() -> dict[str, object]:
                try:
                    return await evaluate_answers(
                        state=state,
                        dataset=dataset,
                        limit=limit,
                        unanswerable_from=unanswerable_from,
                        n_unanswerable=unanswerable,
                        concurrency=concurrency,
                        progress=lambda d, t: progress.update(task, completed=d, total=t),
                        details=details,
                    )
                finally:
                    await state.llm.aclose()

            result = asyncio.run(run())
    finally:
        state.db.dispose()
        if engine is not None:
            engine.stop()
    _record(settings, "answers", dataset, result, settings.llm_model)
    _print_figures(result, as_json)


# -- benchmarks -----------------------------------------------------------------------

bench_app = typer.Typer(
    help="Mesures de performance, côte à côte dans un même passage.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
BENCH_CORPUS = "bench-procedures"


def _bench_corpus(settings: Settings) -> None:
    """The demo procedures in a corpus of their own (released directly, no queue)."""
    from corpora.demo_corpora import DEMO_CORPORA

    procedures = DEMO_CORPORA[0]
    with _database(settings) as sessions, transaction(sessions) as session:
        if get_corpus(session=session, name=BENCH_CORPUS) is None:
            create_corpus(
                session=session,
                name=BENCH_CORPUS,
                title=procedures.title,
                kind=procedures.kind,
                review_policy=ReviewPolicy.never,
            )
    ingest_files(settings, BENCH_CORPUS, _files([procedures.folder]), _index(settings))


def _bench_on_demo(work: Callable[[Settings], Coroutine[Any, Any, Any]]) -> Any:
    """Index the demo procedures, then run ``work`` against the configured engine, or an
    embedded one started for it."""
    import asyncio

    settings = _settings()
    _bench_corpus(settings)
    engine = None if settings.llm_base_url else _start_engine(settings)
    try:
        return asyncio.run(work(settings))
    finally:
        if engine is not None:
            engine.stop()


@bench_app.command("chat")
def bench_chat(
    concurrency: Annotated[int, typer.Option(help="Questions envoyées en même temps.")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Les mêmes questions, en flux, par l'API de Guichet puis directement au moteur."""
    from server.bench import bench_chat as run
    from server.bench import demo_questions

    result = _bench_on_demo(
        lambda settings: run(
            settings=settings,
            corpus=BENCH_CORPUS,
            concurrency=concurrency,
            questions=demo_questions(),
        )
    )
    _print_figures(result, as_json)


@bench_app.command("load")
def bench_load(
    users: Annotated[int, typer.Option(help="Citoyens simulés.")] = 50,
    duration: Annotated[float, typer.Option(help="Durée, en secondes.")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Des citoyens simulés posent des questions pendant une durée bornée (boucle locale)."""
    from server.bench import bench_load as run
    from server.bench import demo_questions

    result = _bench_on_demo(
        lambda settings: run(
            settings=settings,
            corpus=BENCH_CORPUS,
            users=users,
            duration_s=duration,
            questions=demo_questions(),
        )
    )
    _print_figures(result, as_json)


def _demo_vocabulary() -> list[str]:
    import re

    from corpora.demo_corpora import DEMO_DIR

    text = " ".join(p.read_text(encoding="utf-8") for p in DEMO_DIR.rglob("*.md"))
    return sorted(set(re.findall(r"[A-Za-zÀ-ÿ']{3,}", text)))


@bench_app.command("retrieval")
def bench_retrieval(
    chunks: Annotated[int, typer.Option(help="Taille du recueil synthétique.")] = 100_000,
    queries: Annotated[int, typer.Option(help="Requêtes mesurées.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Recherche hybride sur N passages synthétiques, à côté d'une recherche exacte."""
    import tempfile

    from retrieval.bench import bench_search
    from retrieval.embedding import load_embedder

    settings = _settings()
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as root:
        result = bench_search(
            chunks=chunks,
            vocabulary=_demo_vocabulary(),
            queries=queries,
            embedder=load_embedder(settings.embedding_model),
            root=Path(root),
        )
    _print_figures(result, as_json)


@bench_app.command("ingest")
def bench_ingest(
    dataset: Annotated[Path, typer.Argument(help="Dossier du jeu (documents/ + questions.jsonl).")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Indexation complète d'un jeu, à côté du seul calcul des plongements."""
    import tempfile

    from retrieval.bench import bench_ingest as run
    from retrieval.embedding import load_embedder

    settings = _settings()
    _dataset(dataset)
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as root:
        result = run(
            dataset=dataset, embedder=load_embedder(settings.embedding_model), root=Path(root)
        )
    _print_figures(result, as_json)
