"""The `guichet` command speaks French through the translation layer and fails clearly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accounts.audit import AuditEvent
from accounts.models import User
from database import make_engine
from server.cli import app
from server.settings import Settings
from tests.storage import settings_env


def test_create_ingest_and_clear_errors(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    env = settings_env(settings)
    created = runner.invoke(
        app, ["corpus", "create", "mairie", "--kind", "procedures", "--review", "never"], env=env
    )
    assert created.exit_code == 0, created.output
    assert "Recueil « mairie » créé." in created.output

    guide = tmp_path / "carte.md"
    guide.write_text("# Carte d'identité\n\nUne photo d'identité récente.", encoding="utf-8")
    ingested = runner.invoke(app, ["ingest", str(guide), "--corpus", "mairie"], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert "1 document(s) indexé(s), 0 échec(s)." in ingested.output

    missing = runner.invoke(
        app, ["ingest", str(tmp_path / "absent.md"), "--corpus", "mairie"], env=env
    )
    assert missing.exit_code == 1
    said = " ".join(missing.output.split())  # the console wraps long lines
    assert said.startswith("Erreur :") and "absent.md : fichier introuvable." in said

    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0 and "Base de données à jour." in upgraded.output


def test_accounts_and_corpora_made_from_the_shell_are_audited(settings: Settings) -> None:
    runner = CliRunner()
    env = settings_env(settings)
    for args in (
        ["corpus", "create", "svt", "--kind", "course", "--review", "always"],
        ["users", "add", "eleve", "--role", "student", "--corpus", "svt", "--print-token"],
    ):
        done = runner.invoke(app, args, env=env)
        assert done.exit_code == 0, done.output
    refused = runner.invoke(
        app, ["users", "add", "x", "--role", "admin", "--corpus", "svt"], env=env
    )
    assert refused.exit_code == 1  # an admin cannot own a course: nothing is created

    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            names = {u.name for u in session.scalars(select(User))}
    finally:
        engine.dispose()
    assert [(r.event, r.corpus, r.actor_id, r.detail.get("via")) for r in rows] == [
        ("corpus_created", "svt", None, "cli"),
        ("user_created", None, None, "cli"),
        ("member_added", "svt", None, "cli"),
        ("token_created", None, None, "cli"),
    ]
    assert names == {"eleve"}
