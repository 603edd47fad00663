"""`guichet bench chat|load|retrieval|ingest`: performance figures measured side by side."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from corpora.models import ReviewPolicy
from corpora.repository import create_corpus, get_corpus
from database import transaction
from server.cli.common import (
    bench_app,
    database,
    dataset_folder,
    files_of,
    load_settings,
    print_figures,
    search_index,
)
from server.cli.corpora import ingest_files
from server.cli.engine import start_engine
from server.settings import Settings

BENCH_CORPUS = "bench-procedures"


def _bench_corpus(settings: Settings) -> None:
    """The demo procedures in a corpus of their own (released directly, no queue)."""
    from corpora.demo_corpora import DEMO_CORPORA

    procedures = DEMO_CORPORA[0]
    with database(settings) as sessions, transaction(sessions) as session:
        if get_corpus(session=session, name=BENCH_CORPUS) is None:
            create_corpus(
                session=session,
                name=BENCH_CORPUS,
                title=procedures.title,
                kind=procedures.kind,
                review_policy=ReviewPolicy.never,
            )
    with search_index(settings) as index:
        ingest_files(settings, BENCH_CORPUS, files_of([procedures.folder]), index)


def _bench_on_demo(work: Callable[[Settings], Coroutine[Any, Any, Any]]) -> Any:
    """Index the demo procedures, then run ``work`` against the configured engine, or an
    embedded one started for it."""
    import asyncio

    settings = load_settings()
    _bench_corpus(settings)
    engine = None if settings.llm_base_url else start_engine(settings)
    try:
        return asyncio.run(work(settings))
    finally:
        if engine is not None:
            engine.stop()


@bench_app.command("chat")
def bench_chat(
    concurrency: Annotated[int, typer.Option(help="Questions envoyées en même temps.")] = 16,
    answer_mode: Annotated[
        str,
        typer.Option(
            help="Mode des réponses pendant la mesure : generative (le modèle rédige, comparé "
            "au moteur seul), extractive ou auto (le réglage)."
        ),
    ] = "generative",
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Les mêmes questions, en flux, par l'API de Guichet puis directement au moteur."""
    from server.benchmarks.chat import bench_chat as run
    from server.benchmarks.chat import demo_questions

    result = _bench_on_demo(
        lambda settings: run(
            settings=settings.model_copy(update={"answer_mode": answer_mode}),
            corpus=BENCH_CORPUS,
            concurrency=concurrency,
            questions=demo_questions(),
        )
    )
    print_figures(result, as_json)


@bench_app.command("load")
def bench_load(
    users: Annotated[int, typer.Option(help="Citoyens simulés.")] = 50,
    duration: Annotated[float, typer.Option(help="Durée, en secondes.")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Des citoyens simulés posent des questions pendant une durée bornée (boucle locale)."""
    from server.benchmarks.chat import bench_load as run
    from server.benchmarks.chat import demo_questions

    result = _bench_on_demo(
        lambda settings: run(
            settings=settings,
            corpus=BENCH_CORPUS,
            users=users,
            duration_s=duration,
            questions=demo_questions(),
        )
    )
    print_figures(result, as_json)


def _demo_vocabulary() -> list[str]:
    import re

    from corpora.demo_corpora import DEMO_DIR

    text = " ".join(p.read_text(encoding="utf-8") for p in DEMO_DIR.rglob("*.md"))
    return sorted(set(re.findall(r"[A-Za-zÀ-ÿ']{3,}", text)))


@bench_app.command("retrieval")
def bench_retrieval(
    chunks: Annotated[int, typer.Option(help="Taille du recueil synthétique.")] = 100_000,
    queries: Annotated[int, typer.Option(help="Requêtes mesurées.")] = 200,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Base jetable du catalogue (ex. PostgreSQL) ; par défaut un fichier SQLite "
            "temporaire."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Recherche hybride sur N passages synthétiques, à côté d'une recherche exacte ; puis
    la recherche juste après un changement fait par un autre processus, à côté d'une
    recherche ordinaire."""
    import tempfile

    from retrieval.bench import bench_search
    from retrieval.embedding import load_embedder

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as root:
        result = bench_search(
            chunks=chunks,
            vocabulary=_demo_vocabulary(),
            queries=queries,
            embedder=load_embedder(settings.embedding_model),
            root=Path(root),
            database_url=database_url,
        )
    print_figures(result, as_json)


@bench_app.command("ingest")
def bench_ingest(
    dataset: Annotated[Path, typer.Argument(help="Dossier du jeu (documents/ + questions.jsonl).")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON seulement.")] = False,
) -> None:
    """Indexation complète d'un jeu, à côté du seul calcul des plongements."""
    import tempfile

    from retrieval.bench import bench_ingest as run
    from retrieval.embedding import load_embedder

    settings = load_settings()
    dataset_folder(dataset)
    with tempfile.TemporaryDirectory(prefix="guichet-bench-") as root:
        result = run(
            dataset=dataset, embedder=load_embedder(settings.embedding_model), root=Path(root)
        )
    print_figures(result, as_json)
