"""What every step of the e-mail worker needs: sessions, letters, the instance's defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Frequency, User
from accounts.permissions import Action, can
from corpora.models import Corpus, CorpusMember
from review.models import ReviewItem
from server.i18n import Translator
from server.notifications.letters import Letters

# A round handles at most this many items per step; the rest waits for the next round.
BATCH = 50


@dataclass(frozen=True)
class Notices:
    """The worker's view of the instance: its database, its letters, its settings."""

    sessions: sessionmaker[Session]
    letters: Letters
    default: Frequency
    overdue_after: timedelta

    def frequency(self, user: User) -> Frequency:
        """How often ``user`` hears of new items: their choice, else the instance default."""
        return user.notify or self.default


def reviewers_of(*, session: Session, corpus: Corpus, asker_id: int | None) -> list[User]:
    """The active owners of ``corpus`` who review it (teachers of a course, agents of a
    procedures corpus), with an address, the asker left out."""
    owners = select(CorpusMember.user_id).where(
        CorpusMember.corpus_id == corpus.id, CorpusMember.role == "owner"
    )
    users = session.scalars(
        select(User).where(User.id.in_(owners), User.active, User.email.is_not(None))
    )
    return [
        u
        for u in users
        if u.id != asker_id and can(session=session, user=u, action=Action.review, corpus=corpus)
    ]


def claim_mark(session: Session, *, item_id: int, column: str, now: object) -> bool:
    """Set ``review_items.<column>`` if still unset; True for the one worker that did."""
    field = getattr(ReviewItem, column)
    result = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, field.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def waiting_label(tr: Translator, waited: timedelta) -> str:
    """« 2 h 05 min », as the review dashboard says it."""
    minutes = int(waited.total_seconds() // 60)
    if minutes < 60:
        return tr("review.duration.minutes", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return tr("review.duration.hours", hours=hours, minutes=f"{minutes:02d}")
    days, hours = divmod(hours, 24)
    return tr("review.duration.days", days=days, hours=hours)


def reason_labels(tr: Translator, reasons: Sequence[dict[str, object]]) -> list[str]:
    return [tr(f"reason.{r.get('code', '')}") for r in reasons]
