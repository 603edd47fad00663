"""The chores of a running app: deleting audit events past their retention period,
queueing answers a dead process left half-written, and forgetting old e-mails and unused
reply addresses."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from anyio import to_thread

from accounts import audit
from database import transaction, utcnow
from review.answers import requeue_interrupted
from server.notifications import service as notifications
from server.state import AppState

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY_S = 600


def keep_audit_log_short(state: AppState) -> int:
    """Delete audit events past the retention period; returns how many went."""
    days = state.settings.audit_retention_days
    with transaction(state.sessions) as session:
        removed = audit.purge(session=session, keep_days=days)
    if removed:
        log.info("audit log: %d events older than %d days deleted", removed, days)
    return removed


def requeue_interrupted_answers(state: AppState) -> int:
    """Queue answers left ``generating`` by a process that died (older than any live
    request can be); returns how many."""
    older_than = utcnow() - timedelta(seconds=2 * state.settings.llm_timeout_s + 60)
    with transaction(state.sessions) as session:
        count = requeue_interrupted(session=session, older_than=older_than)
    if count:
        log.warning("%d answer(s) interrupted while being written sent to the review queue", count)
    return count


def forget_old_mail(state: AppState) -> tuple[int, int]:
    """Delete sent and failed e-mails past a month, reply addresses never used."""
    with transaction(state.sessions) as session:
        messages, addresses = notifications.purge(session=session, now=utcnow())
    if messages or addresses:
        log.info(
            "outbox: %d old message(s), %d unused reply address(es) deleted", messages, addresses
        )
    return messages, addresses


def tidy(state: AppState) -> None:
    """One round of chores; a failed round is logged and tried again next time."""
    try:
        keep_audit_log_short(state)
        requeue_interrupted_answers(state)
        forget_old_mail(state)
    except Exception:
        log.exception("housekeeping round failed")


async def chores(state: AppState) -> None:
    """:func:`tidy` every ten minutes, until cancelled (at shutdown)."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_EVERY_S)
        await to_thread.run_sync(tidy, state)
