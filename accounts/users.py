"""People who sign in (admins, agents, teachers, students): made, found, their passwords
and roles. The ``*_recorded`` forms write the audit log; the API, the pages and the CLI
call those, so that each action is logged alike.

Citizens never have an account: they stay anonymous behind a session id.
"""

from __future__ import annotations

import hashlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.contact import clean_address
from accounts.errors import AccountError
from accounts.models import Role, User
from corpora.hygiene import full_match

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,79}")  # matched whole: full_match
MIN_PASSWORD = 10
MAX_PASSWORD = 200
_hasher = PasswordHasher()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError("password_length")


def create_user(
    *,
    session: Session,
    name: str,
    role: Role,
    password: str | None = None,
    email: str | None = None,
) -> User:
    if not full_match(USER_NAME, name):
        raise AccountError("invalid_user_name")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError("user_exists")
    if password is not None:
        check_password_rules(password)
    user = User(
        name=name,
        role=role,
        password_hash=_hasher.hash(password) if password else None,
        email=clean_address(email),
    )
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.name)))


def verify_password(*, session: Session, name: str, password: str) -> User | None:
    user = get_user(session=session, name=name)
    if user is None or not user.active or not user.password_hash:
        # Hash anyway so that unknown names take as long as wrong passwords.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(*, user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = _hasher.hash(password)


def change_password(*, user: User, current: str, new: str) -> None:
    """Change one's own password, knowing the current one."""
    try:
        ok = bool(user.password_hash) and _hasher.verify(user.password_hash or "", current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AccountError("wrong_password")
    set_password(user=user, password=new)


def session_fingerprint(user: User) -> str:
    """A short digest of the password hash and the session version, kept in the cookie.

    A session whose fingerprint no longer matches (the password changed, or the user
    signed out) is refused: sessions live in signed cookies, so this is how they are ended
    on the server, including a copy of the cookie saved before signing out.
    """
    material = f"{user.password_hash or ''}|{user.session_version or 0}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def end_all_sessions(*, user: User) -> None:
    """Refuse every session cookie of ``user`` issued so far (signing out)."""
    user.session_version = (user.session_version or 0) + 1


def set_role(*, user: User, role: Role) -> None:
    user.role = role


def set_active(*, user: User, active: bool) -> None:
    user.active = active


# -- the same actions as the interfaces perform them: done and written to the audit log ------


def create_user_recorded(
    *,
    session: Session,
    name: str,
    role: Role,
    password: str | None = None,
    email: str | None = None,
    by: audit.Actor,
) -> User:
    user = create_user(session=session, name=name, role=role, password=password, email=email)
    audit.record_action(
        session=session,
        event=audit.Event.user_created,
        by=by,
        subject_id=user.id,
        role=user.role.value,
    )
    return user


def change_password_recorded(
    *, session: Session, user: User, current: str, new: str, by: audit.Actor
) -> None:
    """:func:`change_password`, logged only when the current password was right."""
    change_password(user=user, current=current, new=new)
    audit.record_action(
        session=session, event=audit.Event.password_changed, by=by, subject_id=user.id
    )


def set_password_recorded(*, session: Session, user: User, password: str, by: audit.Actor) -> None:
    """:func:`set_password` (no current password asked: the shell), logged."""
    set_password(user=user, password=password)
    audit.record_action(
        session=session, event=audit.Event.password_changed, by=by, subject_id=user.id
    )


def set_role_recorded(*, session: Session, user: User, role: Role, by: audit.Actor) -> Role:
    """Give ``user`` a role, logged with the one it replaces (returned), even if the same."""
    previous = user.role
    set_role(user=user, role=role)
    audit.record_action(
        session=session,
        event=audit.Event.role_changed,
        by=by,
        subject_id=user.id,
        from_role=previous.value,
        to_role=role.value,
    )
    return previous


def set_active_recorded(*, session: Session, user: User, active: bool, by: audit.Actor) -> None:
    """Activate or deactivate ``user``, logged even if it already was."""
    set_active(user=user, active=active)
    audit.record_action(
        session=session,
        event=audit.Event.user_activated if active else audit.Event.user_deactivated,
        by=by,
        subject_id=user.id,
    )


def update_user_recorded(
    *,
    session: Session,
    user: User,
    role: Role | None,
    active: bool | None,
    by: audit.Actor,
) -> None:
    """An admin's change of role or state (API and pages); only what changes is logged.

    An admin may not change their own role nor deactivate themself (``cannot_change_self``).
    """
    if user.id == by.id and ((role is not None and role != user.role) or active is False):
        raise AccountError("cannot_change_self")
    if role is not None and role != user.role:
        set_role_recorded(session=session, user=user, role=role, by=by)
    if active is not None and active != user.active:
        set_active_recorded(session=session, user=user, active=active, by=by)
