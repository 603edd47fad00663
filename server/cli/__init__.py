"""The `guichet` command line, one module per command group:

- engine.py: ``serve``, ``engine prepare|serve``;
- corpora.py: ``corpus create``, ``ingest``, ``demo``;
- users.py: ``users ...``, ``corpus add-owner|add-student|remove-member``;
- evaluate.py: ``db upgrade``, ``eval retrieval|answers``;
- bench.py: ``bench chat|load|retrieval|ingest``;
- opendata.py: ``export allow|verified``, ``import verified``;
- notify.py: ``notify test``.
- sources.py: ``sources add|list|remove``, ``sync``.

The groups themselves, and what the commands share, are in common.py.
"""

from __future__ import annotations

from server.cli import bench, corpora, engine, evaluate, notify, sources, users
from server.cli.common import (
    app,
    bench_app,
    corpus_app,
    db_app,
    engine_app,
    eval_app,
    notify_app,
    users_app,
)
from server.cli.opendata import export_app, import_app

app.add_typer(engine_app, name="engine")
app.add_typer(corpus_app, name="corpus")
app.add_typer(users_app, name="users")
app.add_typer(eval_app, name="eval")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(notify_app, name="notify")

__all__ = ["app", "bench", "corpora", "engine", "evaluate", "notify", "sources", "users"]
