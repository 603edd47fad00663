"""Hardening (#16, item 2): a version left `processing` by a killed `guichet ingest` is taken
up by whoever comes next (the same command run again, or the app at start), at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from corpora.models import Document, DocumentStatus, DocumentVersion
from database import make_engine
from server.app import create_app
from server.cli import app
from server.settings import PROJECT_ROOT, Settings
from tests.fake_engine import FakeEngine
from tests.storage import settings_env

# A real process accepts fiche-3.md and claims it, as `guichet ingest` does, then is killed
# before indexing it: the same state as a `kill -9` in the middle of a run.
KILLED_INGEST = """
import os, signal, sys
from pathlib import Path
from sqlalchemy.orm import sessionmaker
from corpora.lifecycle import DocumentLifecycle
from corpora.repository import get_corpus
from database import make_engine, transaction
import server.schema  # registers every table
from server.settings import Settings

settings = Settings()
sessions = sessionmaker(make_engine(settings.sqlalchemy_url))
documents = DocumentLifecycle(
    sessions=sessions, index=None, max_bytes=10**6
)
path = Path(sys.argv[1])
with transaction(sessions) as session:
    corpus = get_corpus(session=session, name="recovery-mairie")
    documents.accept(session=session, corpus=corpus, filename=path.name, data=path.read_bytes())
assert documents.claim_next() is not None
os.kill(os.getpid(), signal.SIGKILL)
"""


def _setup(tmp_path: Path, settings: Settings) -> tuple[dict[str, str], list[Path]]:
    env = settings_env(settings)
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["corpus", "create", "recovery-mairie", "--kind", "procedures", "--review", "never"],
        env=env,
    )
    assert created.exit_code == 0, created.output
    files = []
    for n in (1, 2, 3):
        path = tmp_path / f"fiche-{n}.md"
        path.write_text(f"# Fiche {n}\n\nPièces à fournir pour la démarche {n}.", encoding="utf-8")
        files.append(path)
    first = runner.invoke(
        app, ["ingest", *map(str, files[:2]), "--corpus", "recovery-mairie"], env=env
    )
    assert first.exit_code == 0, first.output
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_INGEST, str(files[2])],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _status(settings, "fiche-3.md") == DocumentStatus.processing
    return env, files


def _status(settings: Settings, filename: str) -> DocumentStatus:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with sessionmaker(engine)() as session:
            document = session.scalars(select(Document).where(Document.filename == filename)).one()
            return document.versions[-1].status
    finally:
        engine.dispose()


def test_ingest_rerun_after_a_kill_indexes_the_interrupted_version(
    tmp_path: Path, settings: Settings
) -> None:
    env, files = _setup(tmp_path, settings)

    again = CliRunner().invoke(
        app, ["ingest", *map(str, files), "--corpus", "recovery-mairie"], env=env
    )

    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())
    assert "1 version(s) interrompue(s)" in said
    assert "3 document(s) indexé(s), 0 échec(s)." in said
    assert _status(settings, "fiche-3.md") == DocumentStatus.indexed
    engine = make_engine(settings.sqlalchemy_url)
    with sessionmaker(engine)() as session:
        version = session.scalars(
            select(DocumentVersion).join(Document).where(Document.filename == "fiche-3.md")
        ).one()
        assert version.chunk_count > 0
    engine.dispose()


def test_app_start_indexes_a_version_a_killed_ingest_left(
    tmp_path: Path, settings: Settings, fake_engine: FakeEngine
) -> None:
    _setup(tmp_path, settings)

    application = create_app(
        settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport())
    )
    with TestClient(application):
        deadline = time.monotonic() + 120  # a deadline for waiting, not a measured duration
        while _status(settings, "fiche-3.md") != DocumentStatus.indexed:
            assert time.monotonic() < deadline, "the interrupted version was not taken up"
            time.sleep(0.2)
