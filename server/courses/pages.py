"""Pages for courses: a student joins with a code; a teacher manages the code and the
students."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from accounts import courses
from accounts.errors import AccountError
from corpora.models import Corpus
from server.accounts.web import by, html_errors, redirect, render_page, signed_in
from server.courses.service import add_member_named, managed_course
from server.deps import CurrentUser, DbSession, State, Tr
from server.i18n import Translator
from server.schemas import RowId
from server.security.install import security_of
from server.security.ratelimit import hit

router = APIRouter(include_in_schema=False)


@router.get("/join", response_class=HTMLResponse)
@html_errors
def join_page(request: Request, user: CurrentUser, tr: Tr) -> Response:
    signed_in(user)
    return render_page(request, "join.html", tr, errors={}, code="")


@router.post("/join", response_class=HTMLResponse)
@html_errors
def join(
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    code: str = Form("", max_length=32),
) -> Response:
    me = signed_in(user)
    rule = security_of(request.app).login_rule
    wait = hit(state.db, rule, f"join:user:{me.id}")
    if wait is not None:
        response = render_page(
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
            session=session, user=me, code=code, by=by(request, me)
        )
    except AccountError as error:
        if error.code == "only_students_join":
            raise
        return render_page(
            request,
            "join.html",
            tr,
            status_code=422,
            code=code,
            errors={"code": tr(f"error.{error.code}")},
        )
    return redirect(request, f"/?corpus={corpus.name}", "join.joined")


def _course_page(
    request: Request,
    session: Session,
    course: Corpus,
    tr: Translator,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("errors", {})
    return render_page(
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
    courses.rotate_invitation_recorded(session=session, corpus=course, by=by(request, me))
    return redirect(request, f"/account/courses/{course.name}", "course.code_rotated")


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
    error_code = add_member_named(session, course, name, "student", by(request, me))
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
    return redirect(request, f"/account/courses/{course.name}", "course.student_added")


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
        by=by(request, me),
    ):
        raise AccountError("unknown_member")
    return redirect(request, f"/account/courses/{course.name}", "course.student_removed")
