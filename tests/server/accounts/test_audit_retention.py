"""The audit log keeps events for the configured period only."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts import audit
from database import transaction, utcnow
from server.app import create_app
from server.housekeeping import keep_audit_log_short
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import state


def _events(client: TestClient) -> list[str]:
    with transaction(state(client).sessions) as session:
        rows = session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id))
        return [row.event for row in rows]


def _record(client: TestClient, event: audit.Event, days_ago: int) -> None:
    with transaction(state(client).sessions) as session:
        row = audit.record_action(session=session, event=event, by=audit.Actor(id=None, via="cli"))
        row.at = utcnow() - timedelta(days=days_ago)


def test_old_events_go_recent_ones_stay(client: TestClient) -> None:
    days = state(client).settings.audit_retention_days
    _record(client, audit.Event.sign_in, days_ago=days + 1)
    _record(client, audit.Event.sign_out, days_ago=days - 1)
    assert keep_audit_log_short(state(client)) == 1
    assert _events(client) == ["sign_out"]
    assert keep_audit_log_short(state(client)) == 0


def test_the_app_clears_expired_events_when_it_starts(
    settings: Settings, fake_engine: FakeEngine
) -> None:
    short = settings.model_copy(update={"audit_retention_days": 30})
    app = create_app(short, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as first:
        _record(first, audit.Event.token_created, days_ago=31)
        _record(first, audit.Event.token_revoked, days_ago=29)
    app = create_app(short, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as second:
        assert _events(second) == ["token_revoked"]
