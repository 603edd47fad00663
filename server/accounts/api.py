"""The accounts API: one's own account, password and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accounts import tokens, users
from accounts.contact import Contact, set_contact_recorded
from accounts.models import Frequency, User
from accounts.tokens import tokens_of
from corpora.repository import corpora_of
from server.accounts.schemas import (
    MembershipOut,
    MeOut,
    NotificationsIn,
    NotificationsOut,
    PasswordIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    TokensOut,
)
from server.accounts.service import allowed_token_corpora, token_out
from server.deps import DbSession, SignedInUser, State
from server.schemas import RowId, refusals
from server.security.sessions import actor, refresh_session
from server.settings import Settings

router = APIRouter(prefix="/api/v1")


@router.get("/me", response_model=MeOut, tags=["accounts"])
def me(session: DbSession, user: SignedInUser) -> MeOut:
    """The signed-in account, with the corpora it belongs to."""
    memberships = [
        MembershipOut(corpus=c.name, title=c.title, membership=m)
        for m in ("owner", "student")
        for c in corpora_of(session=session, user_id=user.id, role=m)
    ]
    return MeOut(
        id=user.id,
        name=user.name,
        role=user.role.value,
        corpora=memberships,
        token_corpora=user.token_corpora,
    )


@router.post(
    "/me/password",
    status_code=204,
    response_class=Response,
    tags=["accounts"],
    responses=refusals(400),
)
def password(
    body: PasswordIn, request: Request, session: DbSession, user: SignedInUser
) -> Response:
    """Change one's password (the current one is required); other sessions are signed out,
    and with ``revoke_tokens`` every API token of the account is revoked too."""
    users.change_password_recorded(
        session=session,
        user=user,
        current=body.current_password,
        new=body.new_password,
        by=actor(request, user),
    )
    if body.revoke_tokens:
        tokens.revoke_all_tokens_recorded(session=session, user=user, by=actor(request, user))
    if request.session.get("user_id") == user.id:
        refresh_session(request, user)
    return Response(status_code=204)


@router.get("/me/tokens", response_model=TokensOut, tags=["accounts"])
def my_tokens(session: DbSession, user: SignedInUser) -> TokensOut:
    """One's API tokens (never the tokens themselves: only their description)."""
    return TokensOut(
        tokens=[TokenOut(**token_out(t)) for t in tokens_of(session=session, user=user)]
    )


@router.post(
    "/me/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    tags=["accounts"],
    responses=refusals(404),
)
def create_token(
    body: TokenIn, request: Request, session: DbSession, user: SignedInUser
) -> TokenCreatedOut:
    """Create an API token; the response is the only time it is shown."""
    corpora = allowed_token_corpora(session, user, body.corpora)
    token, row = tokens.issue_token_recorded(
        session=session,
        user=user,
        days=body.days,
        corpora=corpora,
        label=body.label,
        by=actor(request, user),
    )
    return TokenCreatedOut(token=token, **token_out(row))


@router.delete(
    "/me/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    tags=["accounts"],
    responses=refusals(404),
)
def delete_token(
    token_id: RowId, request: Request, session: DbSession, user: SignedInUser
) -> Response:
    """Revoke one of one's tokens; it stops working at once."""
    tokens.revoke_token_recorded(
        session=session, user=user, token_id=token_id, by=actor(request, user)
    )
    return Response(status_code=204)


def _notifications(user: User, settings: Settings) -> NotificationsOut:
    return NotificationsOut(
        email=user.email,
        notify=user.notify.value if user.notify else None,
        notify_replies=user.notify_replies,
        language="en" if user.language == "en" else "fr",
        email_enabled=settings.email_enabled,
        notify_default=settings.notify_default,
    )


@router.get("/me/notifications", response_model=NotificationsOut, tags=["accounts"])
def notifications(state: State, user: SignedInUser) -> NotificationsOut:
    """Where and how Guichet e-mails you."""
    return _notifications(user, state.settings)


@router.put(
    "/me/notifications",
    response_model=NotificationsOut,
    tags=["accounts"],
    responses=refusals(400),
)
def set_notifications(
    body: NotificationsIn, request: Request, state: State, session: DbSession, user: SignedInUser
) -> NotificationsOut:
    """Set your address (checked), how often you hear of new items, whether you hear of
    decisions on your questions, and the language of the e-mails."""
    set_contact_recorded(
        session=session,
        user=user,
        contact=Contact(
            email=body.email,
            notify=Frequency(body.notify) if body.notify else None,
            notify_replies=body.notify_replies,
            language=body.language,
        ),
        by=actor(request, user),
    )
    return _notifications(user, state.settings)
