"""The courses API: joining with a code, a course's invitation code and students."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accounts import courses
from accounts.errors import AccountError
from accounts.models import User
from accounts.users import get_user
from server.courses.schemas import (
    InvitationOut,
    JoinedOut,
    JoinIn,
    MemberOut,
    MembersOut,
    StudentIn,
)
from server.courses.service import managed_course
from server.deps import DbSession, SignedInUser
from server.schemas import RowId, refusals
from server.security.sessions import actor

router = APIRouter(prefix="/api/v1")


@router.post("/courses/join", response_model=JoinedOut, tags=["courses"], responses=refusals(400))
def join(body: JoinIn, request: Request, session: DbSession, user: SignedInUser) -> JoinedOut:
    """A student joins a course with the code its teacher gave."""
    corpus = courses.join_with_code_recorded(
        session=session, user=user, code=body.code, by=actor(request, user)
    )
    return JoinedOut(corpus=corpus.name, title=corpus.title)


def _member(user: User, membership: courses.Membership) -> MemberOut:
    return MemberOut(user_id=user.id, name=user.name, role=user.role.value, membership=membership)


@router.get(
    "/courses/{corpus}/invitation",
    response_model=InvitationOut,
    tags=["courses"],
    responses=refusals(400, 403, 404),
)
def invitation(corpus: str, session: DbSession, user: SignedInUser) -> InvitationOut:
    """The course's current invitation code (its teachers only)."""
    course = managed_course(session, user, corpus)
    current = courses.current_invitation(session=session, corpus=course)
    if current is None:
        raise AccountError("no_invitation")
    return InvitationOut(corpus=course.name, code=current.code, created_at=current.created_at)


@router.post(
    "/courses/{corpus}/invitation",
    response_model=InvitationOut,
    tags=["courses"],
    responses=refusals(400, 404),
)
def rotate(corpus: str, request: Request, session: DbSession, user: SignedInUser) -> InvitationOut:
    """Create or replace the course's invitation code; the old one stops working."""
    course = managed_course(session, user, corpus)
    current = courses.rotate_invitation_recorded(
        session=session, corpus=course, by=actor(request, user)
    )
    return InvitationOut(corpus=course.name, code=current.code, created_at=current.created_at)


@router.delete(
    "/courses/{corpus}/invitation",
    status_code=204,
    response_class=Response,
    tags=["courses"],
    responses=refusals(400, 404),
)
def disable(corpus: str, request: Request, session: DbSession, user: SignedInUser) -> Response:
    """Stop accepting new students with a code."""
    course = managed_course(session, user, corpus)
    courses.disable_invitation_recorded(session=session, corpus=course, by=actor(request, user))
    return Response(status_code=204)


@router.get(
    "/courses/{corpus}/students",
    response_model=MembersOut,
    tags=["courses"],
    responses=refusals(400, 403, 404),
)
def students(corpus: str, session: DbSession, user: SignedInUser) -> MembersOut:
    """The course's students (its teachers only)."""
    course = managed_course(session, user, corpus)
    return MembersOut(
        members=[
            MemberOut(**m.__dict__)
            for m in courses.members_of(session=session, corpus=course, membership="student")
        ]
    )


@router.post(
    "/courses/{corpus}/students",
    status_code=201,
    response_model=MemberOut,
    tags=["courses"],
    responses=refusals(400, 404),
)
def add_student(
    corpus: str, body: StudentIn, request: Request, session: DbSession, user: SignedInUser
) -> MemberOut:
    """Add an existing student account to the course."""
    course = managed_course(session, user, corpus)
    student = get_user(session=session, name=body.name)
    if student is None:
        raise AccountError("unknown_user")
    courses.add_member_recorded(
        session=session, corpus=course, user=student, membership="student", by=actor(request, user)
    )
    return _member(student, "student")


@router.delete(
    "/courses/{corpus}/students/{user_id}",
    status_code=204,
    response_class=Response,
    tags=["courses"],
    responses=refusals(400, 404),
)
def remove_student(
    corpus: str, user_id: RowId, request: Request, session: DbSession, user: SignedInUser
) -> Response:
    """Take a student out of the course."""
    course = managed_course(session, user, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=course,
        user_id=user_id,
        membership="student",
        by=actor(request, user),
    ):
        raise AccountError("unknown_member")
    return Response(status_code=204)
