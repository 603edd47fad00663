"""The sources feature as the API, the pages and the CLI share it: which source the caller
manages, adding one (checked, its password sealed), removing, asking for a run, and what
people see of a source and of its last run.

Plain Python: no FastAPI here. Runs themselves are corpora/sources/sync.py, started by
server/sources/runner.py (the app's worker) or ``guichet sync``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import User
from corpora.models import Corpus
from corpora.sources.models import Source, SourceKind
from corpora.sources.repository import (
    add_source,
    get_source,
    item_count,
    last_run,
    parse_every,
    remove_source,
    request_run,
    sources_of,
)
from corpora.sources.secrets import SecretBox
from corpora.sources.sync import RunReport, report_of
from database import utcnow
from server.documents.service import managed_corpus
from server.i18n import Translator, catalog
from server.settings import Settings
from server.sources.schemas import FailureOut, RunOut, SourceIn, SourceOut


def managed_source(session: Session, user: User | None, source_id: int) -> Source:
    """A source of a corpus ``user`` manages the documents of; else why not."""
    source = get_source(session=session, source_id=source_id)
    managed_corpus(session, user, source.corpus.name)
    return source


def add(
    *,
    session: Session,
    corpus: Corpus,
    data: SourceIn,
    by: audit.Actor,
    settings: Settings,
    secrets: SecretBox,
) -> Source:
    """Add a source (the shell may name any folder; the API and the page only those under
    GUICHET_SYNC_FOLDER_ROOTS), recorded in the audit log."""
    every_s = parse_every(data.every or settings.sync_every)
    options = {"max_pages": data.max_pages, "max_depth": data.max_depth, "delay_s": data.delay_s}
    source = add_source(
        session=session,
        corpus=corpus,
        kind=SourceKind(data.kind),
        location=data.location,
        every_s=every_s,
        options=options,
        username=data.username,
        sealed_password=secrets.seal(data.password) if data.password else None,
        created_by=by.id,
        folder_roots=None if by.via == "cli" else list(settings.sync_folder_roots),
    )
    audit.record_action(
        session=session,
        event=audit.Event.source_added,
        by=by,
        corpus=corpus.name,
        source_id=source.id,
        kind=source.kind.value,
    )
    return source


def remove(*, session: Session, source: Source, by: audit.Actor) -> int:
    """Forget a source (its documents stay); returns how many documents it had brought."""
    corpus, source_id, kind = source.corpus.name, source.id, source.kind.value
    count = remove_source(session=session, source=source)
    audit.record_action(
        session=session,
        event=audit.Event.source_removed,
        by=by,
        corpus=corpus,
        source_id=source_id,
        kind=kind,
    )
    return count


def ask_for_run(
    *, session: Session, source: Source, by: audit.Actor, confirm_removals: bool = False
) -> None:
    """A run as soon as a worker is free; ``confirm_removals`` lets it remove what a held
    run found gone."""
    request_run(session=session, source=source, confirm_removals=confirm_removals)
    audit.record_action(
        session=session,
        event=audit.Event.source_sync_requested,
        by=by,
        corpus=source.corpus.name,
        source_id=source.id,
        confirm_removals=confirm_removals or None,
    )


def record_run(*, session: Session, report: RunReport) -> None:
    """The audit line of a finished run: counts and codes, never a page's content."""
    audit.record(
        session=session,
        event=audit.Event.source_synced,
        corpus=report.corpus,
        source_id=report.source_id,
        trigger=report.trigger,
        status=report.status,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
        failed=report.failed,
        error_code=report.error_code,
    )


# -- what people see -------------------------------------------------------------------------


def failure_message(tr: Translator, code: str, detail: str, item: str) -> str:
    """A failure in the reader's language: sync codes first, then the upload codes
    (indexing failures of a fetched file), else the code itself."""
    if f"sync.error.{code}" in catalog("fr"):
        return tr(f"sync.error.{code}", detail=detail or "?")
    if f"upload.{code}" in catalog("fr"):
        return tr(f"upload.{code}", filename=item, limit="")
    return code


def every_label(tr: Translator, seconds: int) -> str:
    """« 30 min », « 6 h », « 1 j » (English: "30 min", "6 h", "1 d")."""
    day = "j" if tr.language == "fr" else "d"
    for size, unit in ((86400, day), (3600, "h"), (60, "min")):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def run_out(report: RunReport, tr: Translator, *, next_run_at: datetime | None = None) -> RunOut:
    error = None
    if report.error_code:
        message = failure_message(tr, report.error_code, report.error or "", report.location)
        error = FailureOut(item=report.location, code=report.error_code, message=message)
    return RunOut(
        run_id=report.run_id,
        source_id=report.source_id,
        corpus=report.corpus,
        kind=report.kind,
        location=report.location,
        trigger=report.trigger,
        status=report.status,
        started_at=report.started_at,
        finished_at=report.finished_at,
        duration_s=report.duration_s,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
        failed=report.failed,
        failures=[
            FailureOut(
                item=f["item"],
                code=f["code"],
                message=failure_message(tr, f["code"], f.get("detail", ""), f["item"]),
            )
            for f in report.failures
        ],
        held_removals=report.held_removals,
        error=error,
        next_run_at=next_run_at,
    )


def source_out(session: Session, source: Source, tr: Translator) -> SourceOut:
    run = last_run(session=session, source=source)
    running = source.lease_until is not None and source.lease_until > utcnow()
    return SourceOut(
        id=source.id,
        corpus=source.corpus.name,
        kind=source.kind.value,
        location=source.location,
        every_s=source.every_s,
        every=every_label(tr, source.every_s),
        options={k: float(v) for k, v in (source.options or {}).items()},
        username=source.username,
        has_password=source.secret is not None,
        documents=item_count(session=session, source=source),
        running=running,
        run_requested=source.run_requested,
        next_run_at=source.next_run_at,
        last_run=(
            run_out(report_of(run, source), tr, next_run_at=source.next_run_at)
            if run is not None
            else None
        ),
    )


def sources_context(
    session: Session,
    tr: Translator,
    corpus: Corpus,
    settings: Settings,
    *,
    source_errors: dict[str, str] | None = None,
    source_form: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the documents page shows of the corpus's sources, and its form to add one."""
    views = [source_out(session, s, tr) for s in sources_of(session=session, corpus=corpus)]
    return {
        "sources": views,
        "sources_busy": any(_busy(v.running, v.run_requested, v.next_run_at) for v in views),
        "source_errors": source_errors or {},
        "source_form": source_form or {},
        "default_every": every_label(tr, parse_every(settings.sync_every)),
    }


def _busy(running: bool, requested: bool, next_run_at: datetime) -> bool:
    # A run goes on or is about to (asked for, or due now): the page refreshes itself.
    return running or requested or next_run_at <= utcnow()


def sources_busy(session: Session, corpus: Corpus) -> bool:
    """Whether a source of ``corpus`` is running or about to (its documents will change)."""
    now = utcnow()
    return any(
        _busy(s.lease_until is not None and s.lease_until > now, s.run_requested, s.next_run_at)
        for s in sources_of(session=session, corpus=corpus)
    )
