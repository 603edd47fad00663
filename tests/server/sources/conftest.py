"""The sync tests' app: sources on 127.0.0.1 allowed, no politeness delay, and runs in the
foreground unless a test turns the app's worker on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from tests.conftest import make_settings
from tests.sites import StaticSite
from tests.storage import Storage


@pytest.fixture
def settings(tmp_path: Path, storage: Storage) -> Settings:
    return make_settings(
        tmp_path / "data",
        sync_private_networks=True,
        sync_delay_s=0,
        sync_scheduler=False,
        **storage.settings(),
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[StaticSite]:
    with StaticSite(tmp_path / "site") as running:
        yield running


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[StaticSite]:
    """Another site (another port is another origin): a sync must never ask it anything."""
    with StaticSite(tmp_path / "elsewhere") as running:
        running.write("index.html", "<html><body><p>Autre site</p></body></html>")
        yield running
