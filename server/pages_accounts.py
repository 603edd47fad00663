"""Pages for accounts: sign-in and out, one's account and tokens, courses, administration.

Forms post and redirect (post/redirect/get), so everything works without JavaScript.
An anonymous visitor asking for a protected page gets the sign-in form with status 401;
a signed-in one who may not gets an error page with 403.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from corpora.models import Corpus, CorpusKind, ReviewPolicy
from corpora.repository import CorpusError, corpora_of, list_corpora
from server import accounts, audit, courses
from server.accounts import (
    AccountError,
    Role,
    User,
    get_user,
    list_users,
    tokens_of,
    verify_password,
)
from server.api_accounts import (
    account_error,
    actor,
    allowed_token_corpora,
    corpus_or_404,
    managed_course,
    source,
)
from server.app_state import state_of
from server.deps import CurrentUser, DbSession, Tr
from server.errors import ApiError, error_page
from server.i18n import Translator
from server.permissions import Action, can, require_admin
from server.ratelimit import hit
from server.schemas_accounts import RowId
from server.security import end_session, refresh_session, security_of, start_session

router = APIRouter(include_in_schema=False)
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=enum.StrEnum)


def _choice(kind: type[E], value: str) -> E | None:
    """The member of ``kind`` a form sent, or None for anything else."""
    return kind(value) if value in {m.value for m in kind} else None


def render(
    request: Request, template: str, tr: Translator, status_code: int = 200, **context: Any
) -> HTMLResponse:
    templates = request.app.state.templates
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    return templates.TemplateResponse(
        request,
        template,
        {"t": tr, "lang": tr.language, "flash": flash, **context},
        status_code=status_code,
    )


def _login_page(request: Request, tr: Translator, status: int, **context: Any) -> HTMLResponse:
    target = request.url.path if request.method == "GET" else "/account"
    context.setdefault("next", target)
    return render(request, "login.html", tr, status_code=status, errors={}, name="", **context)


def html_errors(endpoint: F) -> F:
    """Turn the ApiErrors a page raises into pages: sign-in (401) or an error page."""

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        except ApiError as error:
            request: Request = kwargs["request"]
            tr = Translator(kwargs["tr"].language)
            if error.status == 401:
                return _login_page(request, tr, 401)
            message = tr(f"error.{error.code}", **error.values)
            return error_page(request, tr, status=error.status, message=message)

    return wrapper  # type: ignore[return-value]


def signed_in(user: User | None) -> User:
    if user is None:
        raise ApiError(401, "unauthenticated")
    return user


def _redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def _by(request: Request, user: User) -> audit.Actor:
    return actor(request, user, via="web")


def _safe_next(target: str | None, fallback: str) -> str:
    # Only paths of this site: "//host" and "/\\host" would leave it.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback


# -- signing in and out ---------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: CurrentUser, tr: Tr, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next, "/account"), status_code=303)
    return render(request, "login.html", tr, errors={}, name="", next=_safe_next(next, "/account"))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    tr: Tr,
    name: str = Form("", max_length=200),
    password: str = Form("", max_length=200),
    next: str = Form("/account", max_length=500),
) -> Response:
    engine = state_of(request).db
    rule = security_of(request.app).login_rule
    name_key = "name:" + hashlib.sha256(name.strip().lower().encode()).hexdigest()
    waits = [
        hit(engine, rule, "address:" + source(request)),
        hit(engine, rule, name_key),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        response = render(
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
        verify_password(session=session, name=name.strip(), password=password)
        if not errors
        else None
    )
    if user is None:
        if not errors:
            known = get_user(session=session, name=name.strip())
            audit.record(
                session=session,
                event=audit.Event.sign_in_failed,
                subject_id=known.id if known else None,
                source=source(request),
                via="web",
            )
            errors["form"] = tr("error.invalid_credentials")
        return render(
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
    audit.record_action(
        session=session, event=audit.Event.sign_in, by=_by(request, user), subject_id=user.id
    )
    fallback = "/admin" if user.role == Role.admin else "/account"
    return RedirectResponse(_safe_next(next, fallback), status_code=303)


@router.post("/logout")
def logout(request: Request, session: DbSession, user: CurrentUser) -> RedirectResponse:
    if user is not None:
        audit.record_action(
            session=session, event=audit.Event.sign_out, by=_by(request, user), subject_id=user.id
        )
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
    return render(
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
) -> Response:
    me = signed_in(user)
    errors: dict[str, str] = {}
    if new_password != confirm_password:
        errors["confirm_password"] = tr("error.password_mismatch")
    else:
        try:
            accounts.change_password_recorded(
                session=session,
                user=me,
                current=current_password,
                new=new_password,
                by=_by(request, me),
            )
        except AccountError as error:
            field = "current_password" if error.code == "wrong_password" else "new_password"
            errors[field] = tr(f"error.{error.code}")
    if errors:
        return _account(request, session, me, tr, status=422, errors=errors)
    refresh_session(request, me)
    return _redirect(request, "/account", "account.password_changed")


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
    token, _ = accounts.issue_token_recorded(
        session=session, user=me, days=days, corpora=corpora, label=label, by=_by(request, me)
    )
    # Shown once, in this response only: never put in the session or a redirect.
    return _account(request, session, me, tr, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
@html_errors
def account_revoke(
    request: Request, token_id: RowId, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    me = signed_in(user)
    try:
        accounts.revoke_token_recorded(
            session=session, user=me, token_id=token_id, by=_by(request, me)
        )
    except AccountError as error:
        raise account_error(error) from error
    return _redirect(request, "/account", "account.token_revoked")


# -- courses --------------------------------------------------------------------------------


@router.get("/join", response_class=HTMLResponse)
@html_errors
def join_page(request: Request, user: CurrentUser, tr: Tr) -> Response:
    signed_in(user)
    return render(request, "join.html", tr, errors={}, code="")


@router.post("/join", response_class=HTMLResponse)
@html_errors
def join(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    code: str = Form("", max_length=32),
) -> Response:
    me = signed_in(user)
    rule = security_of(request.app).login_rule
    wait = hit(state_of(request).db, rule, f"join:user:{me.id}")
    if wait is not None:
        response = render(
            request,
            "join.html",
            tr,
            status_code=429,
            code=code,
            errors={"code": tr("error.rate_limited")},
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        corpus = courses.join_with_code_recorded(
            session=session, user=me, code=code, by=_by(request, me)
        )
    except AccountError as error:
        if error.code == "only_students_join":
            raise account_error(error) from error
        return render(
            request,
            "join.html",
            tr,
            status_code=422,
            code=code,
            errors={"code": tr(f"error.{error.code}")},
        )
    return _redirect(request, f"/?corpus={corpus.name}", "join.joined")


def _add_member_named(
    session: Session,
    corpus: Corpus,
    name: str,
    membership: courses.Membership,
    by: audit.Actor,
) -> str | None:
    """Add the account called ``name`` to ``corpus``; the error code if that cannot be done."""
    member = get_user(session=session, name=name.strip())
    if member is None:
        return "unknown_user"
    try:
        courses.add_member_recorded(
            session=session, corpus=corpus, user=member, membership=membership, by=by
        )
    except AccountError as error:
        return error.code
    return None


def _course_page(
    request: Request,
    session: Session,
    course: Corpus,
    tr: Translator,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("errors", {})
    return render(
        request,
        "account_course.html",
        tr,
        status_code=status,
        course=course,
        invitation=courses.current_invitation(session=session, corpus=course),
        students=courses.members_of(session=session, corpus=course, membership="student"),
        **context,
    )


@router.get("/account/courses/{corpus}", response_class=HTMLResponse)
@html_errors
def course_page(
    request: Request, corpus: str, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    course = managed_course(session, signed_in(user), corpus)
    return _course_page(request, session, course, tr)


@router.post("/account/courses/{corpus}/invitation", response_class=HTMLResponse)
@html_errors
def course_rotate(
    request: Request, corpus: str, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    me = signed_in(user)
    course = managed_course(session, me, corpus)
    courses.rotate_invitation_recorded(session=session, corpus=course, by=_by(request, me))
    return _redirect(request, f"/account/courses/{course.name}", "course.code_rotated")


@router.post("/account/courses/{corpus}/students", response_class=HTMLResponse)
@html_errors
def course_add_student(
    request: Request,
    corpus: str,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    name: str = Form("", max_length=80),
) -> Response:
    me = signed_in(user)
    course = managed_course(session, me, corpus)
    error_code = _add_member_named(session, course, name, "student", by=_by(request, me))
    if error_code:
        return _course_page(
            request,
            session,
            course,
            tr,
            status=422,
            name=name,
            errors={"name": tr(f"error.{error_code}")},
        )
    return _redirect(request, f"/account/courses/{course.name}", "course.student_added")


@router.post("/account/courses/{corpus}/students/{user_id}/remove", response_class=HTMLResponse)
@html_errors
def course_remove_student(
    request: Request, corpus: str, user_id: RowId, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    me = signed_in(user)
    course = managed_course(session, me, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=course,
        user_id=user_id,
        membership="student",
        by=_by(request, me),
    ):
        raise ApiError(404, "unknown_member")
    return _redirect(request, f"/account/courses/{course.name}", "course.student_removed")


# -- administration ---------------------------------------------------------------------------


def _admin_page(
    request: Request, session: Session, tr: Translator, status: int = 200, **context: Any
) -> HTMLResponse:
    corpora = list_corpora(session=session)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render(
        request,
        "admin.html",
        tr,
        status_code=status,
        users=list_users(session=session),
        corpora=[(c, courses.members_of(session=session, corpus=c)) for c in corpora],
        roles=[r.value for r in Role],
        events=audit.recent(session=session, limit=30),
        **context,
    )


@router.get("/admin", response_class=HTMLResponse)
@html_errors
def admin_page(request: Request, session: DbSession, user: CurrentUser, tr: Tr) -> Response:
    require_admin(user)
    return _admin_page(request, session, tr)


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
) -> Response:
    admin = require_admin(user)
    try:
        accounts.create_user_recorded(
            session=session,
            name=name.strip(),
            role=_choice(Role, role) or Role.student,
            password=password or None,
            by=_by(request, admin),
        )
    except AccountError as error:
        field = "password" if error.code == "password_length" else "name"
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            form={"name": name, "role": role},
            errors={field: tr(f"error.{error.code}")},
        )
    return _redirect(request, "/admin", "admin.user_created")


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
        raise ApiError(404, "unknown_user")
    try:
        accounts.update_user_recorded(
            session=session,
            user=target,
            role=_choice(Role, role),
            active={"true": True, "false": False}.get(active),
            by=_by(request, admin),
        )
    except AccountError as error:
        raise account_error(error) from error
    return _redirect(request, "/admin", "admin.user_updated")


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
            kind=_choice(CorpusKind, kind) or CorpusKind.procedures,
            review_policy=_choice(ReviewPolicy, review_policy) or ReviewPolicy.flagged,
            by=_by(request, admin),
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
    return _redirect(request, "/admin", "admin.corpus_created")


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
    target = corpus_or_404(session, corpus)
    error_code = _add_member_named(session, target, name, "owner", by=_by(request, admin))
    if error_code:
        return _admin_page(
            request,
            session,
            tr,
            status=422,
            errors={f"owner-{target.name}": tr(f"error.{error_code}")},
        )
    return _redirect(request, "/admin", "admin.owner_added")


@router.post("/admin/corpora/{corpus}/owners/{user_id}/remove", response_class=HTMLResponse)
@html_errors
def admin_remove_owner(
    request: Request, corpus: str, user_id: RowId, session: DbSession, user: CurrentUser, tr: Tr
) -> Response:
    admin = require_admin(user)
    target = corpus_or_404(session, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=target,
        user_id=user_id,
        membership="owner",
        by=_by(request, admin),
    ):
        raise ApiError(404, "unknown_member")
    return _redirect(request, "/admin", "admin.owner_removed")
