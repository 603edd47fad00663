"""The Guichet web app, its API, the answer pipeline and the `guichet` CLI."""
