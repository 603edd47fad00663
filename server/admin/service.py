"""The audit log as the administration page shows it: names instead of account numbers,
times in the reader's time zone and language, what each line concerns, and filters.

Plain Python: no FastAPI here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accounts import audit
from accounts.people import people
from server.i18n import Translator

# Filters offered: every kind of event, in the order of the catalog (accounts, then content).
EVENTS = [e.value for e in audit.Event]


@dataclass(frozen=True)
class AuditLine:
    """One event, ready to read."""

    at: str
    event: str
    actor: str
    subject: str
    corpus: str
    about: str


@dataclass(frozen=True)
class AuditFilters:
    """What the person reading the log asked for (empty: everything)."""

    event: str = ""
    person: int | None = None
    corpus: str = ""

    @classmethod
    def of(cls, event: str, person: str, corpus: str) -> AuditFilters:
        return cls(
            event=event if event in EVENTS else "",
            person=int(person) if person.isdigit() else None,
            corpus=corpus,
        )


def _about(tr: Translator, detail: dict[str, object]) -> str:
    """What the line concerns beyond people: a document, a review, open data, a source."""
    parts = []
    if "document_id" in detail:
        parts.append(
            tr("audit.about.document", id=detail["document_id"], version=detail.get("version", ""))
        )
    if "review_id" in detail:
        parts.append(tr("audit.about.review", id=detail["review_id"]))
    if detail.get("edited"):
        parts.append(tr("audit.about.edited"))
    if "published" in detail:
        parts.append(
            tr("audit.about.published" if detail["published"] else "audit.about.unpublished")
        )
    if "source_id" in detail:
        parts.append(tr("audit.about.source", id=detail["source_id"]))
    if "to_role" in detail:
        parts.append(tr(f"role.{detail['to_role']}"))
    if "via" in detail:
        parts.append(tr(f"audit.via.{detail['via']}"))
    return " · ".join(parts)


def audit_lines(
    *, session: Session, tr: Translator, filters: AuditFilters, limit: int = 50
) -> list[AuditLine]:
    """The latest events matching ``filters``, newest first, for people to read."""
    rows = audit.recent(
        session=session,
        limit=limit,
        event=filters.event or None,
        person_id=filters.person,
        corpus=filters.corpus or None,
    )
    names = people(session=session, ids=[i for r in rows for i in (r.actor_id, r.subject_id)])

    def name(user_id: int | None, via: object) -> str:
        if user_id is None:
            return tr("audit.by_shell") if via == "cli" else "—"
        person = names.get(user_id)
        return person.name if person else tr("audit.deleted_account", id=user_id)

    return [
        AuditLine(
            at=tr.datetime(r.at),
            event=tr(f"audit.{r.event}"),
            actor=name(r.actor_id, r.detail.get("via")),
            subject=name(r.subject_id, None) if r.subject_id else "—",
            corpus=r.corpus or "—",
            about=_about(tr, r.detail),
        )
        for r in rows
    ]
