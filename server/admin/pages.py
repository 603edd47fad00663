"""The administration page: accounts (with their e-mail addresses), corpora and their
owners, the outbox of e-mails, the latest audit events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from accounts import courses, users
from accounts.contact import set_email_recorded
from accounts.errors import AccountError
from accounts.models import Role, User
from accounts.permissions import require_admin
from accounts.users import list_users
from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import CorpusError, list_corpora
from server.accounts.service import corpus_named
from server.accounts.web import by, choice, html_errors, redirect, render_page
from server.admin.service import EVENTS, AuditFilters, audit_lines
from server.courses.service import add_member_named
from server.deps import CurrentUser, DbSession, Tr
from server.i18n import Translator
from server.notifications.service import outbox_view
from server.schemas import RowId
from server.state import state_of

router = APIRouter(include_in_schema=False)


def _admin_page(
    request: Request,
    session: Session,
    tr: Translator,
    status: int = 200,
    filters: AuditFilters | None = None,
    **context: Any,
) -> HTMLResponse:
    corpora = list_corpora(session=session)
    filters = filters or AuditFilters()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_page(
        request,
        "admin.html",
        tr,
        status_code=status,
        users=list_users(session=session),
        corpora=[(c, courses.members_of(session=session, corpus=c)) for c in corpora],
        roles=[r.value for r in Role],
        audit_lines=audit_lines(session=session, tr=tr, filters=filters),
        audit_filters=filters,
        audit_events=EVENTS,
        outbox=outbox_view(session=session, settings=state_of(request).settings),
        **context,
    )


@router.get("/admin", response_class=HTMLResponse)
@html_errors
def admin_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    event: str = "",
    person: str = "",
    corpus: str = "",
) -> Response:
    require_admin(user)
    return _admin_page(request, session, tr, filters=AuditFilters.of(event, person, corpus))


@router.post("/admin/users", response_class=HTMLResponse)
@html_errors
def admin_add_user(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    name: str = Form("", max_length=80),
    role: str = Form("student", max_length=20),
    password: str = Form("", max_length=200),
    email: str = Form("", max_length=254),
    corpus: str = Form("", max_length=64),
) -> Response:
    """A new account, attached at once to a corpus if one is chosen (as its owner, or as a
    student of a course); nothing is created when either step is refused."""
    admin = require_admin(user)
    chosen_role = choice(Role, role) or Role.student
    try:
        created = users.create_user_recorded(
            session=session,
            name=name.strip(),
            role=chosen_role,
            password=password or None,
            email=email,
            by=by(request, admin),
        )
        if corpus:
            courses.add_member_recorded(
                session=session,
                corpus=corpus_named(session, corpus),
                user=created,
                membership="student" if chosen_role == Role.student else "owner",
                by=by(request, admin),
            )
    except (AccountError, CorpusError) as error:
        session.rollback()
        fields = {
            "password_length": "password",
            "invalid_email": "new_email",
            "owner_role_mismatch": "new_corpus",
            "unknown_corpus": "new_corpus",
            "not_a_course": "new_corpus",
        }
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            form={"name": name, "role": role, "email": email, "corpus": corpus},
            errors={fields.get(error.code, "name"): tr(f"error.{error.code}", corpus=corpus)},
        )
    return redirect(request, "/admin", "admin.user_created")


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
@html_errors
def admin_update_user(
    request: Request,
    user_id: RowId,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    role: str = Form("", max_length=20),
    active: str = Form("", max_length=5),
) -> Response:
    admin = require_admin(user)
    target = session.get(User, user_id)
    if target is None:
        raise AccountError("unknown_user")
    users.update_user_recorded(
        session=session,
        user=target,
        role=choice(Role, role),
        active={"true": True, "false": False}.get(active),
        by=by(request, admin),
    )
    return redirect(request, "/admin", "admin.user_updated")


@router.post("/admin/users/{user_id}/email", response_class=HTMLResponse)
@html_errors
def admin_set_email(
    request: Request,
    user_id: RowId,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    email: str = Form("", max_length=254),
) -> Response:
    """An account's e-mail address (empty: none); a mistyped one changes nothing."""
    admin = require_admin(user)
    target = session.get(User, user_id)
    if target is None:
        raise AccountError("unknown_user")
    try:
        set_email_recorded(session=session, user=target, email=email, by=by(request, admin))
    except AccountError as error:
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            errors={f"email-{target.id}": tr(f"error.{error.code}")},
            typed_emails={target.id: email},
        )
    session.commit()  # before the redirect, so that the admin page shows the new address
    return redirect(request, "/admin", "admin.user_updated")


@router.post("/admin/corpora", response_class=HTMLResponse)
@html_errors
def admin_add_corpus(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    name: str = Form("", max_length=64),
    title: str = Form("", max_length=200),
    kind: str = Form("procedures", max_length=20),
    review_policy: str = Form("flagged", max_length=20),
) -> Response:
    admin = require_admin(user)
    try:
        courses.create_corpus_recorded(
            session=session,
            name=name.strip(),
            title=title.strip() or name.strip(),
            kind=choice(CorpusKind, kind) or CorpusKind.procedures,
            review_policy=choice(ReviewPolicy, review_policy) or ReviewPolicy.flagged,
            by=by(request, admin),
        )
    except CorpusError as error:
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            corpus_form={"name": name, "title": title},
            errors={"corpus_name": tr(f"error.{error.code}", **error.details)},
        )
    return redirect(request, "/admin", "admin.corpus_created")


@router.post("/admin/corpora/{corpus}/owners", response_class=HTMLResponse)
@html_errors
def admin_add_owner(
    request: Request,
    corpus: str,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    name: str = Form("", max_length=80),
) -> Response:
    admin = require_admin(user)
    target = corpus_named(session, corpus)
    error_code = add_member_named(session, target, name, "owner", by(request, admin))
    if error_code:
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            errors={f"owner-{target.name}": tr(f"error.{error_code}")},
        )
    return redirect(request, "/admin", "admin.owner_added")


@router.post("/admin/corpora/{corpus}/owners/{user_id}/remove", response_class=HTMLResponse)
@html_errors
def admin_remove_owner(
    request: Request, corpus: str, user_id: RowId, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    admin = require_admin(user)
    target = corpus_named(session, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=target,
        user_id=user_id,
        membership="owner",
        by=by(request, admin),
    ):
        raise AccountError("unknown_member")
    return redirect(request, "/admin", "admin.owner_removed")
