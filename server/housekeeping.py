"""The chores of a running app: today, deleting audit events past their retention period."""

from __future__ import annotations

import asyncio
import logging

from anyio import to_thread

from accounts import audit
from database import transaction
from server.state import AppState

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY_S = 24 * 3600


def keep_audit_log_short(state: AppState) -> int:
    """Delete audit events past the retention period; returns how many went."""
    days = state.settings.audit_retention_days
    with transaction(state.sessions) as session:
        removed = audit.purge(session=session, keep_days=days)
    if removed:
        log.info("audit log: %d events older than %d days deleted", removed, days)
    return removed


def tidy(state: AppState) -> None:
    """One round of chores; a failed round is logged and tried again next time."""
    try:
        keep_audit_log_short(state)
    except Exception:
        log.exception("housekeeping round failed")


async def daily_chores(state: AppState) -> None:
    """:func:`tidy` once a day, until cancelled (at shutdown)."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_EVERY_S)
        await to_thread.run_sync(tidy, state)
