"""Measure `guichet sync --json` on a local 30-page website, twice: the first run imports
every page, the second finds them all unchanged (one conditional request per page).

    PYTHONPATH=. .venv/bin/python scripts/measure_sync.py [--pages 30] [--delay 1.0]

The site is a folder served by Python's http.server on 127.0.0.1 (Last-Modified and
If-Modified-Since, as a static web server); the instance is a fresh data folder. Prints
each run's JSON report line and its wall time. ``--delay`` is GUICHET_SYNC_DELAY_S, the
polite pause between two requests (1 s by default): it dominates an unchanged run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOPICS = [
    "Passeport", "Carte d'identité", "Naissance", "Mariage", "PACS", "Décès", "Recensement",
    "Listes électorales", "Cantine scolaire", "Périscolaire", "Crèche", "Urbanisme",
    "Permis de construire", "Déclaration préalable", "Cimetière", "Stationnement résidentiel",
    "Marchés", "Associations", "Salle des fêtes", "Déchets", "Encombrants", "Eau",
    "Assainissement", "Voirie", "Bruit", "Animaux", "Jeunesse", "Seniors", "Logement social",
    "Élus",
]  # fmt: skip


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


def write_site(root: Path, pages: int) -> None:
    names = [f"demarche-{i:02d}.html" for i in range(pages - 1)]
    links = "".join(f'<li><a href="/{n}">{TOPICS[i % 30]}</a></li>' for i, n in enumerate(names))
    root.mkdir(parents=True)
    (root / "index.html").write_text(
        f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>Démarches</title>"
        f"</head><body><nav><ul>{links}</ul></nav><main><h1>Vos démarches</h1><p>Toutes les "
        f"démarches de la mairie de Val-d'Orme, classées par thème.</p></main></body></html>",
        encoding="utf-8",
    )
    for i, name in enumerate(names):
        topic = TOPICS[i % 30]
        body = "".join(
            f"<p>{topic} : étape {step}. Présentez-vous à l'accueil de la mairie avec les "
            f"pièces demandées ; le service instruit le dossier sous {step + 4} jours ouvrés "
            f"et vous prévient par courrier.</p>"
            for step in range(1, 6)
        )
        (root / name).write_text(
            f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>{topic}</title>"
            f"</head><body><nav><a href='/'>Accueil</a></nav><main><h1>{topic}</h1>{body}"
            f"</main><footer>Mairie de Val-d'Orme</footer></body></html>",
            encoding="utf-8",
        )


def guichet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], env=env, capture_output=True, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--delay", type=float, default=1.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        write_site(root, options.pages)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        env = {
            **os.environ,
            "GUICHET_DATA_DIR": str(Path(tmp) / "data"),
            "GUICHET_SYNC_PRIVATE_NETWORKS": "true",
            "GUICHET_SYNC_DELAY_S": str(options.delay),
            "GUICHET_LOG_LEVEL": "WARNING",
        }
        guichet(env, "corpus", "create", "mairie", "--kind", "procedures", "--review", "never")
        guichet(env, "sources", "add", "mairie", "--website", url)
        for label in ("first run", "second run"):
            started = time.monotonic()
            done = guichet(env, "sync", "mairie", "--json")
            wall = time.monotonic() - started
            run = json.loads(done.stdout.strip().splitlines()[-1])["runs"][0]
            keys = ("status", "added", "updated", "unchanged", "removed", "failed", "duration_s")
            print(f"{label}: exit {done.returncode}, command {wall:.1f} s (with start-up)")
            print("  " + json.dumps({k: run[k] for k in keys}, ensure_ascii=False))
        server.shutdown()


if __name__ == "__main__":
    main()
