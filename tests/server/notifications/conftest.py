"""The test SMTP server, one per test, started on 127.0.0.1 and stopped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
