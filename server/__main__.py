"""`python -m server` is the `guichet` command."""

from server.cli import app

app()
