"""`guichet db upgrade` and `guichet eval retrieval|answers`: the schema, and quality
figures recorded for the transparency page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from database import transaction
from server.cli.common import (
    console,
    database,
    dataset_folder,
    db_app,
    eval_app,
    load_settings,
    out,
    print_figures,
    search_index,
    tr,
)
from server.cli.engine import start_engine
from server.settings import Settings


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Met le schéma de la base à jour (migrations Alembic)."""
    settings = load_settings()
    with database(settings):
        pass
    out.print(tr("cli.database_ready"))


def _record(
    settings: Settings, kind: str, dataset: Path, figures: dict[str, object], model: str | None
) -> None:
    from server.evaluations.models import record_run

    with database(settings) as sessions, transaction(sessions) as session:
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
    from server.evaluations.service import corpus_name

    settings = load_settings()
    dataset_folder(dataset)
    with search_index(settings) as index:
        result = evaluate_retrieval(dataset=dataset, index=index, corpus=corpus_name(dataset), k=k)
    _record(settings, "retrieval", dataset, result, settings.embedding_model)
    print_figures(result, as_json)


@eval_app.command("answers")
def eval_answers(
    dataset: Annotated[
        Path, typer.Argument(help="Dossier du jeu (documents/ + questions.jsonl, ou questions.md).")
    ],
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

    from server.evaluations.service import evaluate_answers
    from server.state import build_state

    settings = load_settings()
    dataset_folder(dataset)
    if unanswerable_from is not None:
        dataset_folder(unanswerable_from)
    engine = None if settings.llm_base_url else start_engine(settings)
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
    print_figures(result, as_json)
