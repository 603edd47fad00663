"""The `guichet` command speaks French through the translation layer and fails clearly."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

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
