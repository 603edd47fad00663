"""`guichet sources add|list|remove` and `guichet sync CORPUS [--json]` on a real site."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from server.cli import app
from server.settings import Settings
from tests.server.sources.helpers import town_hall_site
from tests.sites import StaticSite
from tests.storage import settings_env

RUN_KEYS = {
    "run_id",
    "source_id",
    "corpus",
    "kind",
    "location",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "added",
    "updated",
    "unchanged",
    "removed",
    "failed",
    "failures",
    "held_removals",
    "error",
    "next_run_at",
}


def test_sources_and_sync_from_the_shell(
    settings: Settings, site: StaticSite, elsewhere: StaticSite
) -> None:
    runner = CliRunner()
    env = {
        **settings_env(settings),
        "GUICHET_SYNC_PRIVATE_NETWORKS": "true",
        "GUICHET_SYNC_DELAY_S": "0",
    }
    town_hall_site(site, elsewhere)
    created = runner.invoke(
        app, ["corpus", "create", "mairie", "--kind", "procedures", "--review", "never"], env=env
    )
    assert created.exit_code == 0, created.output

    none = runner.invoke(app, ["sources", "add", "mairie"], env=env)
    assert none.exit_code == 1 and "exactement une source" in none.output
    bad = runner.invoke(
        app, ["sources", "add", "mairie", "--website", "x", "--every", "2s"], env=env
    )
    assert bad.exit_code == 1 and "Intervalle invalide" in " ".join(bad.output.split())
    added = runner.invoke(
        app, ["sources", "add", "mairie", "--website", f"{site.url}/", "--every", "6h"], env=env
    )
    assert added.exit_code == 0, added.output
    assert "Source 1 ajoutée au recueil mairie" in added.output

    first = runner.invoke(app, ["sync", "mairie", "--json"], env=env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["corpus"] == "mairie"
    (run,) = report["runs"]
    assert set(run) == RUN_KEYS
    assert (run["status"], run["trigger"], run["added"], run["failed"]) == ("done", "cli", 7, 3)
    assert {f["code"] for f in run["failures"]} == {
        "server_error",
        "offsite_redirect",
        "login_page",
    }

    second = runner.invoke(app, ["sync", "mairie"], env=env)
    assert second.exit_code == 0, second.output
    said = " ".join(second.output.split())
    assert "Source 1" in said and ": terminée en" in said
    assert "0 ajouté(s), 0 mis à jour, 7 inchangé(s), 0 retiré(s), 3 en échec" in said
    assert "la page redirige vers un autre site" in said

    listed = runner.invoke(app, ["sources", "list", "mairie", "--json"], env=env)
    (source,) = json.loads(listed.stdout)["sources"]
    assert source["last_run"]["unchanged"] == 7 and source["documents"] == 7

    removed = runner.invoke(app, ["sources", "remove", "1"], env=env)
    assert removed.exit_code == 0 and "ses 7 document(s) restent" in removed.output
    nothing = runner.invoke(app, ["sync", "mairie"], env=env)
    assert nothing.exit_code == 1 and "n'a aucune source" in nothing.output
