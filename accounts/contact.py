"""How Guichet reaches a person with an account: their e-mail address, how often they hear
of new items to review, whether they hear of decisions on their own questions, and the
language of those e-mails.

Addresses are checked here, once, for every interface (API, pages, CLI). The audit log
records that contact details changed, never the address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accounts import audit
from accounts.errors import AccountError
from accounts.models import Frequency, User
from corpora.hygiene import full_match

MAX_ADDRESS = 254
# Deliberately plain: one @, no spaces, a dot in the domain. Whether the mailbox exists
# only the SMTP server can tell.
_ADDRESS = re.compile(r"[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}")
LANGUAGES = ("fr", "en")


def clean_address(address: str | None) -> str | None:
    """The address, trimmed; None for an empty one; ``AccountError("invalid_email")``."""
    value = (address or "").strip()
    if not value:
        return None
    if len(value) > MAX_ADDRESS or not full_match(_ADDRESS, value):
        raise AccountError("invalid_email")
    return value


def mask_address(address: str) -> str:
    """What people other than its owner see of an address: « j•••@e•••.fr »."""
    local, _, domain = address.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{host[:1]}•••.{tld}" if host else f"{local[:1]}•••@•••"


@dataclass(frozen=True, kw_only=True)
class Contact:
    """What an account's owner (or an admin) sets; None in ``notify``: the instance default."""

    email: str | None
    notify: Frequency | None = None
    notify_replies: bool = True
    language: str = "fr"


def set_contact(*, user: User, contact: Contact) -> bool:
    """Set ``user``'s contact details (address checked); True when something changed."""
    email = clean_address(contact.email)
    language = contact.language if contact.language in LANGUAGES else "fr"
    before = (user.email, user.notify, user.notify_replies, user.language)
    user.email = email
    user.notify = contact.notify
    user.notify_replies = contact.notify_replies
    user.language = language
    return before != (user.email, user.notify, user.notify_replies, user.language)


def set_email(*, user: User, email: str | None) -> bool:
    """Set only the address (the admin page, `guichet users add --email`)."""
    return set_contact(
        user=user,
        contact=Contact(
            email=email,
            notify=user.notify,
            notify_replies=user.notify_replies,
            language=user.language,
        ),
    )


def set_contact_recorded(
    *, session: Session, user: User, contact: Contact, by: audit.Actor
) -> bool:
    """:func:`set_contact`, logged (without the address) when something changed."""
    changed = set_contact(user=user, contact=contact)
    if changed:
        audit.record_action(
            session=session, event=audit.Event.contact_changed, by=by, subject_id=user.id
        )
    return changed


def set_email_recorded(*, session: Session, user: User, email: str | None, by: audit.Actor) -> bool:
    """:func:`set_email`, logged (without the address) when it changed."""
    changed = set_email(user=user, email=email)
    if changed:
        audit.record_action(
            session=session, event=audit.Event.contact_changed, by=by, subject_id=user.id
        )
    return changed
