"""Who belongs to a corpus: course invitations, students and owners.

A teacher shares an invitation code with a class; a signed-in student enters it to
join. The code is kept in clear because the teacher must be able to show it again;
it only lets a student account join, and rotating it retires the old one.

The ``*_recorded`` functions do the same as their namesakes and write the audit log:
the API, the pages and the CLI call them, so that each action is logged alike. Creating
a corpus, the step before giving it owners, is here for the same reason.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounts import audit
from accounts.errors import AccountError
from accounts.models import Role, User
from corpora.models import Corpus, CorpusKind, CorpusMember, ReviewPolicy
from corpora.repository import add_member, create_corpus, member_role
from database import Base, UTCDateTime, utcnow

# No 0/O, 1/I/L: codes are read aloud and copied from a board.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class CourseInvitation(Base):
    """The current invitation code of a course (at most one)."""

    __tablename__ = "course_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(
        ForeignKey("corpora.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Membership = Literal["owner", "student"]


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    role: Role
    membership: str


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def current_invitation(*, session: Session, corpus: Corpus) -> CourseInvitation | None:
    return session.scalar(select(CourseInvitation).where(CourseInvitation.corpus_id == corpus.id))


def rotate_invitation(*, session: Session, corpus: Corpus, by: User) -> CourseInvitation:
    """Give the course a new code; the previous one stops working at once."""
    return _rotate(session=session, corpus=corpus, created_by=by.id)


def rotate_invitation_recorded(
    *, session: Session, corpus: Corpus, by: audit.Actor
) -> CourseInvitation:
    invitation = _rotate(session=session, corpus=corpus, created_by=by.id)
    audit.record_action(
        session=session, event=audit.Event.invitation_rotated, by=by, corpus=corpus.name
    )
    return invitation


def _rotate(*, session: Session, corpus: Corpus, created_by: int | None) -> CourseInvitation:
    if corpus.kind != CorpusKind.course:
        raise AccountError("not_a_course")
    invitation = current_invitation(session=session, corpus=corpus)
    if invitation is None:
        invitation = CourseInvitation(corpus_id=corpus.id, code=_new_code(), created_by=created_by)
        session.add(invitation)
    else:
        invitation.code = _new_code()
        invitation.created_by = created_by
        invitation.created_at = utcnow()
    session.flush()
    return invitation


def disable_invitation(*, session: Session, corpus: Corpus) -> bool:
    result = session.execute(
        delete(CourseInvitation).where(CourseInvitation.corpus_id == corpus.id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def disable_invitation_recorded(*, session: Session, corpus: Corpus, by: audit.Actor) -> bool:
    """Retire the course's code; False, and nothing logged, when it had none."""
    if not disable_invitation(session=session, corpus=corpus):
        return False
    audit.record_action(
        session=session, event=audit.Event.invitation_disabled, by=by, corpus=corpus.name
    )
    return True


def join_with_code(*, session: Session, user: User, code: str) -> Corpus:
    """Make a student account a member of the course whose code this is."""
    if user.role != Role.student:
        raise AccountError("only_students_join")
    cleaned = normalise_code(code)
    invitation = (
        session.scalar(select(CourseInvitation).where(CourseInvitation.code == cleaned))
        if len(cleaned) == CODE_LENGTH
        else None
    )
    if invitation is None:
        raise AccountError("invalid_code")
    corpus = session.get_one(Corpus, invitation.corpus_id)
    add_member(session=session, corpus=corpus, user_id=user.id, role="student")
    return corpus


def join_with_code_recorded(*, session: Session, user: User, code: str, by: audit.Actor) -> Corpus:
    corpus = join_with_code(session=session, user=user, code=code)
    audit.record_action(
        session=session,
        event=audit.Event.course_joined,
        by=by,
        subject_id=user.id,
        corpus=corpus.name,
    )
    return corpus


def members_of(*, session: Session, corpus: Corpus, membership: str | None = None) -> list[Member]:
    query = (
        select(CorpusMember, User)
        .join(User, User.id == CorpusMember.user_id)
        .where(CorpusMember.corpus_id == corpus.id)
        .order_by(User.name)
    )
    if membership is not None:
        query = query.where(CorpusMember.role == membership)
    return [
        Member(user_id=u.id, name=u.name, role=u.role, membership=m.role)
        for m, u in session.execute(query).all()
    ]


def owner_role_for(corpus: Corpus) -> Role:
    """Procedures belong to agents, courses to teachers."""
    return Role.agent if corpus.kind == CorpusKind.procedures else Role.teacher


def add_student(*, session: Session, corpus: Corpus, student: User) -> None:
    if corpus.kind != CorpusKind.course:
        raise AccountError("not_a_course")
    if student.role != Role.student:
        raise AccountError("not_a_student")
    if member_role(session=session, corpus=corpus, user_id=student.id) == "owner":
        raise AccountError("already_owner")
    add_member(session=session, corpus=corpus, user_id=student.id, role="student")


def add_owner(*, session: Session, corpus: Corpus, user: User) -> None:
    if user.role != owner_role_for(corpus):
        raise AccountError("owner_role_mismatch")
    add_member(session=session, corpus=corpus, user_id=user.id, role="owner")


def remove_member(
    *, session: Session, corpus: Corpus, user_id: int, membership: str | None = None
) -> bool:
    """Detach a person from a corpus (only with that membership, when given)."""
    query = delete(CorpusMember).where(
        CorpusMember.corpus_id == corpus.id, CorpusMember.user_id == user_id
    )
    if membership is not None:
        query = query.where(CorpusMember.role == membership)
    return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]


def add_member_recorded(
    *, session: Session, corpus: Corpus, user: User, membership: Membership, by: audit.Actor
) -> None:
    """:func:`add_student` or :func:`add_owner`, and write it to the audit log."""
    if membership == "owner":
        add_owner(session=session, corpus=corpus, user=user)
    else:
        add_student(session=session, corpus=corpus, student=user)
    audit.record_action(
        session=session,
        event=audit.Event.member_added,
        by=by,
        subject_id=user.id,
        corpus=corpus.name,
        membership=membership,
    )


def remove_member_recorded(
    *,
    session: Session,
    corpus: Corpus,
    user_id: int,
    membership: Membership | None,
    by: audit.Actor,
) -> bool:
    """Detach a member (only with that membership, when given) and write it to the audit log.

    False, and nothing logged, when the person had no such membership.
    """
    if not remove_member(session=session, corpus=corpus, user_id=user_id, membership=membership):
        return False
    audit.record_action(
        session=session,
        event=audit.Event.member_removed,
        by=by,
        subject_id=user_id,
        corpus=corpus.name,
        membership=membership,
    )
    return True


def create_corpus_recorded(
    *,
    session: Session,
    name: str,
    title: str,
    kind: CorpusKind,
    review_policy: ReviewPolicy,
    by: audit.Actor,
) -> Corpus:
    """:func:`corpora.repository.create_corpus`, and write it to the audit log."""
    corpus = create_corpus(
        session=session, name=name, title=title, kind=kind, review_policy=review_policy
    )
    audit.record_action(
        session=session, event=audit.Event.corpus_created, by=by, corpus=corpus.name
    )
    return corpus
