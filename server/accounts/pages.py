"""Pages for one's account: signing in and out, the account, password and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts import audit, tokens, users
from accounts.contact import Contact, set_contact_recorded
from accounts.errors import AccountError
from accounts.models import Frequency, User
from accounts.permissions import Action, can
from accounts.tokens import tokens_of
from corpora.repository import corpora_of, list_corpora
from server.accounts import service
from server.accounts.service import allowed_token_corpora
from server.accounts.web import (
    by,
    choice,
    html_errors,
    redirect,
    render_page,
    safe_next,
    signed_in,
)
from server.deps import CurrentUser, DbSession, State, Tr
from server.i18n import Translator
from server.schemas import RowId
from server.security.install import security_of
from server.security.sessions import (
    end_session,
    is_known_device,
    refresh_session,
    remember_device,
    source,
    start_session,
)

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def sign_in_page(
    request: Request, session: DbSession, user: CurrentUser, tr: Tr, next: str | None = None
) -> Response:
    if user is not None:
        home = service.home_of(session=session, user=user)
        return RedirectResponse(safe_next(next, home), status_code=303)
    return render_page(request, "login.html", tr, errors={}, name="", next=safe_next(next, ""))


@router.post("/login", response_class=HTMLResponse)
def sign_in(
    request: Request,
    state: State,
    session: DbSession,
    tr: Tr,
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=200),
    next: str = Form("", max_length=500),
) -> Response:
    rule = security_of(request.app).login_rule
    wait = service.sign_in_wait(
        db=state.db,
        rule=rule,
        source=source(request),
        name=name,
        known_device=is_known_device(request, name),
    )
    if wait is not None:
        response = render_page(
            request,
            "login.html",
            tr,
            status_code=429,
            name=name,
            next=next,
            errors={"form": tr("error.rate_limited")},
        )
        response.headers["Retry-After"] = str(wait)
        return response
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = tr("login.name_missing")
    if not password:
        errors["password"] = tr("login.password_missing")
    user = (
        service.sign_in(
            session=session, name=name.strip(), password=password, source=source(request)
        )
        if not errors
        else None
    )
    if user is None:
        if not errors:
            errors["form"] = tr("error.invalid_credentials")
            session.commit()  # the audit line first: SQLite allows one writer at a time
            service.count_failed_sign_in(db=state.db, rule=rule, name=name)
        return render_page(
            request,
            "login.html",
            tr,
            status_code=401 if "form" in errors else 422,
            name=name,
            next=next,
            errors=errors,
        )
    start_session(request, user)
    request.session["role"] = user.role.value  # for the navigation only, never for rights
    redirect_to = RedirectResponse(
        safe_next(next, service.home_of(session=session, user=user)), status_code=303
    )
    remember_device(request, redirect_to, user.name)
    return redirect_to


@router.post("/logout")
def sign_out(request: Request, session: DbSession, user: CurrentUser) -> RedirectResponse:
    if user is not None:
        audit.record_action(
            session=session, event=audit.Event.sign_out, by=by(request, user), subject_id=user.id
        )
        # A copy of this cookie (or of another device's) must not work after signing out.
        users.end_all_sessions(user=user)
    end_session(request)
    return RedirectResponse("/", status_code=303)


# -- one's account --------------------------------------------------------------------------


def _account(
    request: Request,
    session: Session,
    user: User,
    tr: Translator,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    memberships = {
        m: corpora_of(session=session, user_id=user.id, role=m) for m in ("owner", "student")
    }
    askable = [
        c
        for c in list_corpora(session=session)
        if can(session=session, user=user, action=Action.ask, corpus=c)
    ]
    context.setdefault("errors", {})
    return render_page(
        request,
        "account.html",
        tr,
        status_code=status,
        user=user,
        tokens=tokens_of(session=session, user=user),
        owned=memberships["owner"],
        joined=memberships["student"],
        askable=askable,
        **context,
    )


@router.get("/account", response_class=HTMLResponse)
@html_errors
def account(request: Request, session: DbSession, user: CurrentUser, tr: Tr) -> Response:
    return _account(request, session, signed_in(user), tr)


@router.post("/account/password", response_class=HTMLResponse)
@html_errors
def account_password(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    current_password: str = Form("", max_length=200),
    new_password: str = Form("", max_length=200),
    confirm_password: str = Form("", max_length=200),
    revoke_tokens: bool = Form(False),
) -> Response:
    me = signed_in(user)
    errors: dict[str, str] = {}
    if new_password != confirm_password:
        errors["confirm_password"] = tr("error.password_mismatch")
    else:
        try:
            users.change_password_recorded(
                session=session,
                user=me,
                current=current_password,
                new=new_password,
                by=by(request, me),
            )
        except AccountError as error:
            field = "current_password" if error.code == "wrong_password" else "new_password"
            errors[field] = tr(f"error.{error.code}")
    if errors:
        return _account(request, session, me, tr, status=422, errors=errors)
    if revoke_tokens:
        tokens.revoke_all_tokens_recorded(session=session, user=me, by=by(request, me))
    refresh_session(request, me)
    return redirect(request, "/account", "account.password_changed")


@router.post("/account/tokens", response_class=HTMLResponse)
@html_errors
def account_token(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    label: str = Form("", max_length=80),
    days: int = Form(90, ge=1, le=3650),
    corpus: Annotated[list[str] | None, Form()] = None,
) -> Response:
    me = signed_in(user)
    corpora = allowed_token_corpora(session, me, corpus or None)
    token, _ = tokens.issue_token_recorded(
        session=session, user=me, days=days, corpora=corpora, label=label, by=by(request, me)
    )
    # Shown once, in this response only: never put in the session or a redirect.
    return _account(request, session, me, tr, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
@html_errors
def account_revoke(
    request: Request, token_id: RowId, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    me = signed_in(user)
    tokens.revoke_token_recorded(session=session, user=me, token_id=token_id, by=by(request, me))
    return redirect(request, "/account", "account.token_revoked")


@router.post("/account/notifications", response_class=HTMLResponse)
@html_errors
def account_notifications(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    email: str = Form("", max_length=254),
    notify: str = Form("", max_length=10),
    notify_replies: bool = Form(False),
    language: str = Form("fr", max_length=8),
) -> Response:
    """One's address and notification settings; a mistyped address changes nothing."""
    me = signed_in(user)
    contact = Contact(
        email=email,
        notify=choice(Frequency, notify),
        notify_replies=notify_replies,
        language=language,
    )
    try:
        set_contact_recorded(session=session, user=me, contact=contact, by=by(request, me))
    except AccountError as error:
        return _account(
            request,
            session,
            me,
            tr,
            status=422,
            errors={"email": tr(f"error.{error.code}")},
            contact_form={"email": email},
        )
    # Committed before the redirect: the page it leads to must show the new settings
    # (the session dependency would commit only once the response is on its way).
    session.commit()
    return redirect(request, "/account#notifications", "account.notifications_saved")
