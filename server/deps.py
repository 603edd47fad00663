"""Dependency aliases, in one place, for routes and pages."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import require_admin, require_signed_in
from accounts.tokens import restrict_to_token, user_for_token
from server.errors import ApiError
from server.errors import translator as _translator
from server.i18n import Translator
from server.security.sessions import session_user
from server.state import AppState, state_of


def get_state(request: Request) -> AppState:
    return state_of(request)


State = Annotated[AppState, Depends(get_state)]


def get_session(request: Request) -> Iterator[Session]:
    session = state_of(request).sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]


def get_current_user(request: Request, session: DbSession) -> User | None:
    """The caller: a bearer token, a signed-in session, or nobody (a citizen).

    A session is honoured only while its account is active and its password unchanged
    (the session keeps a fingerprint of the password hash).
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        found = user_for_token(session=session, token=header[7:].strip())
        if found is None:
            raise ApiError(401, "invalid_token")
        user, token = found
        restrict_to_token(user, token)
        # Persist last_used_at (and its audit line) even if the route then fails.
        session.commit()
        return user
    return session_user(request, session)


CurrentUser = Annotated[User | None, Depends(get_current_user)]


def _signed_in(user: CurrentUser) -> User:
    return require_signed_in(user)


SignedInUser = Annotated[User, Depends(_signed_in)]


def _admin(user: CurrentUser) -> User:
    return require_admin(user)


AdminUser = Annotated[User, Depends(_admin)]


def citizen_session_id(request: Request) -> str:
    """A random id for the visitor, kept in the signed session cookie."""
    sid = request.session.get("sid")
    if not isinstance(sid, str):
        sid = secrets.token_urlsafe(16)
        request.session["sid"] = sid
    return sid


SessionId = Annotated[str, Depends(citizen_session_id)]
Tr = Annotated[Translator, Depends(_translator)]
