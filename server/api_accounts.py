"""The accounts API: one's own account and tokens, courses' students, administration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from corpora.models import Corpus, CorpusKind, ReviewPolicy
from corpora.repository import CorpusError, corpora_of, get_corpus
from server import accounts, audit, courses
from server.accounts import AccountError, ApiToken, Role, User, get_user, list_users, tokens_of
from server.deps import AdminUser, DbSession, SignedInUser
from server.errors import ApiError
from server.permissions import Action, can, require
from server.schemas import ErrorOut
from server.schemas_accounts import (
    AuditEventOut,
    AuditOut,
    CorpusIn,
    CreatedCorpusOut,
    InvitationOut,
    JoinedOut,
    JoinIn,
    MemberOut,
    MembershipOut,
    MembersOut,
    MeOut,
    PasswordIn,
    RowId,
    StudentIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    TokensOut,
    UserIn,
    UserOut,
    UserPatch,
    UsersOut,
)
from server.security import address_hash, refresh_session

router = APIRouter(prefix="/api/v1")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The request breaks a rule (see the error code)",
        403: "Not allowed",
        404: "Not found",
    }
    return {code: {"model": ErrorOut, "description": descriptions[code]} for code in codes}


# AccountError codes that mean "no such thing (for you)"; others are broken rules.
_NOT_FOUND = {"unknown_token", "unknown_user", "unknown_member", "no_invitation"}
_FORBIDDEN = {"only_students_join"}


def account_error(error: AccountError) -> ApiError:
    """The HTTP error for an :class:`AccountError` (pages reuse the mapping)."""
    if error.code in _NOT_FOUND:
        return ApiError(404, error.code)
    if error.code in _FORBIDDEN:
        return ApiError(403, error.code)
    return ApiError(400, error.code)


def source(request: Request) -> str:
    return address_hash(request.app, request.scope)


def actor(request: Request, user: User, via: str = "api") -> audit.Actor:
    """``user`` acting through this request (the pages pass ``via="web"``)."""
    return audit.Actor(id=user.id, via=via, source=source(request))


def corpus_or_404(session: Session, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise ApiError(404, "unknown_corpus", corpus=name)
    return corpus


def token_out(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "label": row.label,
        "role": row.role.value if row.role else None,
        "corpora": row.corpora,
        "state": row.state,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


# -- one's own account ----------------------------------------------------------------------


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
    responses=_errors(400),
)
def password(
    body: PasswordIn, request: Request, session: DbSession, user: SignedInUser
) -> Response:
    """Change one's password (the current one is required); other sessions are signed out."""
    try:
        accounts.change_password_recorded(
            session=session,
            user=user,
            current=body.current_password,
            new=body.new_password,
            by=actor(request, user),
        )
    except AccountError as error:
        raise account_error(error) from error
    if request.session.get("user_id") == user.id:
        refresh_session(request, user)
    return Response(status_code=204)


@router.get("/me/tokens", response_model=TokensOut, tags=["accounts"])
def my_tokens(session: DbSession, user: SignedInUser) -> TokensOut:
    """One's API tokens (never the tokens themselves: only their description)."""
    return TokensOut(
        tokens=[TokenOut(**token_out(t)) for t in tokens_of(session=session, user=user)]
    )


def allowed_token_corpora(
    session: Session, user: User, names: list[str] | None
) -> list[str] | None:
    """Check the corpora a new token is limited to; a limited token can only narrow."""
    if names is None:
        return user.token_corpora
    for name in names:
        corpus = corpus_or_404(session, name)
        if not can(session=session, user=user, action=Action.ask, corpus=corpus):
            raise ApiError(403, "forbidden_corpus")
    return sorted(set(names))


@router.post(
    "/me/tokens",
    status_code=201,
    response_model=TokenCreatedOut,
    tags=["accounts"],
    responses=_errors(404),
)
def create_token(
    body: TokenIn, request: Request, session: DbSession, user: SignedInUser
) -> TokenCreatedOut:
    """Create an API token; the response is the only time it is shown."""
    corpora = allowed_token_corpora(session, user, body.corpora)
    token, row = accounts.issue_token_recorded(
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
    responses=_errors(404),
)
def delete_token(
    token_id: RowId, request: Request, session: DbSession, user: SignedInUser
) -> Response:
    """Revoke one of one's tokens; it stops working at once."""
    try:
        accounts.revoke_token_recorded(
            session=session, user=user, token_id=token_id, by=actor(request, user)
        )
    except AccountError as error:
        raise account_error(error) from error
    return Response(status_code=204)


# -- courses --------------------------------------------------------------------------------


@router.post("/courses/join", response_model=JoinedOut, tags=["courses"], responses=_errors(400))
def join(body: JoinIn, request: Request, session: DbSession, user: SignedInUser) -> JoinedOut:
    """A student joins a course with the code its teacher gave."""
    try:
        corpus = courses.join_with_code_recorded(
            session=session, user=user, code=body.code, by=actor(request, user)
        )
    except AccountError as error:
        raise account_error(error) from error
    return JoinedOut(corpus=corpus.name, title=corpus.title)


def _add_member(
    session: Session,
    corpus: Corpus,
    user: User,
    membership: courses.Membership,
    by: audit.Actor,
) -> MemberOut:
    """Add ``user`` to ``corpus`` (API errors for the rules it breaks); the new member."""
    try:
        courses.add_member_recorded(
            session=session, corpus=corpus, user=user, membership=membership, by=by
        )
    except AccountError as error:
        raise account_error(error) from error
    return MemberOut(user_id=user.id, name=user.name, role=user.role.value, membership=membership)


def managed_course(session: Session, user: User, name: str) -> Corpus:
    corpus = corpus_or_404(session, name)
    require(session=session, user=user, action=Action.manage_students, corpus=corpus)
    if corpus.kind != CorpusKind.course:
        raise ApiError(400, "not_a_course")
    return corpus


@router.get(
    "/courses/{corpus}/invitation",
    response_model=InvitationOut,
    tags=["courses"],
    responses=_errors(400, 403, 404),
)
def invitation(corpus: str, session: DbSession, user: SignedInUser) -> InvitationOut:
    """The course's current invitation code (its teachers only)."""
    course = managed_course(session, user, corpus)
    current = courses.current_invitation(session=session, corpus=course)
    if current is None:
        raise ApiError(404, "no_invitation")
    return InvitationOut(corpus=course.name, code=current.code, created_at=current.created_at)


@router.post(
    "/courses/{corpus}/invitation",
    response_model=InvitationOut,
    tags=["courses"],
    responses=_errors(400, 404),
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
    responses=_errors(400, 404),
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
    responses=_errors(400, 403, 404),
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
    responses=_errors(400, 404),
)
def add_student(
    corpus: str, body: StudentIn, request: Request, session: DbSession, user: SignedInUser
) -> MemberOut:
    """Add an existing student account to the course."""
    course = managed_course(session, user, corpus)
    student = get_user(session=session, name=body.name)
    if student is None:
        raise ApiError(404, "unknown_user")
    return _add_member(session, course, student, "student", by=actor(request, user))


@router.delete(
    "/courses/{corpus}/students/{user_id}",
    status_code=204,
    response_class=Response,
    tags=["courses"],
    responses=_errors(400, 404),
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
        raise ApiError(404, "unknown_member")
    return Response(status_code=204)


# -- administration ---------------------------------------------------------------------------


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        role=user.role.value,
        active=user.active,
        created_at=user.created_at,
    )


@router.get("/admin/users", response_model=UsersOut, tags=["admin"], responses=_errors(403))
def users(session: DbSession, admin: AdminUser) -> UsersOut:
    """Every account."""
    return UsersOut(users=[user_out(u) for u in list_users(session=session)])


@router.post(
    "/admin/users",
    status_code=201,
    response_model=UserOut,
    tags=["admin"],
    responses=_errors(400),
)
def add_user(body: UserIn, request: Request, session: DbSession, admin: AdminUser) -> UserOut:
    """Create an account (without a password, it can only be used through tokens)."""
    try:
        user = accounts.create_user_recorded(
            session=session,
            name=body.name,
            role=Role(body.role),
            password=body.password,
            by=actor(request, admin),
        )
    except AccountError as error:
        raise account_error(error) from error
    return user_out(user)


@router.patch(
    "/admin/users/{user_id}",
    response_model=UserOut,
    tags=["admin"],
    responses=_errors(400, 404),
)
def patch_user(
    user_id: RowId, body: UserPatch, request: Request, session: DbSession, admin: AdminUser
) -> UserOut:
    """Change an account's role or deactivate it (an admin cannot do either to themself)."""
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, "unknown_user")
    try:
        accounts.update_user_recorded(
            session=session,
            user=user,
            role=Role(body.role) if body.role else None,
            active=body.active,
            by=actor(request, admin),
        )
    except AccountError as error:
        raise account_error(error) from error
    return user_out(user)


@router.post(
    "/admin/corpora",
    status_code=201,
    response_model=CreatedCorpusOut,
    tags=["admin"],
    responses=_errors(400),
)
def add_corpus(
    body: CorpusIn, request: Request, session: DbSession, admin: AdminUser
) -> CreatedCorpusOut:
    """Create a corpus; then give it owners."""
    try:
        corpus = courses.create_corpus_recorded(
            session=session,
            name=body.name,
            title=body.title,
            kind=CorpusKind(body.kind),
            review_policy=ReviewPolicy(body.review_policy),
            by=actor(request, admin),
        )
    except CorpusError as error:
        raise ApiError(400, error.code, **error.details) from error
    return CreatedCorpusOut(
        name=corpus.name, title=corpus.title, kind=body.kind, review_policy=body.review_policy
    )


@router.get(
    "/admin/corpora/{corpus}/members",
    response_model=MembersOut,
    tags=["admin"],
    responses=_errors(403, 404),
)
def members(corpus: str, session: DbSession, admin: AdminUser) -> MembersOut:
    """A corpus's owners and students."""
    target = corpus_or_404(session, corpus)
    return MembersOut(
        members=[
            MemberOut(**m.__dict__) for m in courses.members_of(session=session, corpus=target)
        ]
    )


@router.put(
    "/admin/corpora/{corpus}/owners/{user_id}",
    response_model=MemberOut,
    tags=["admin"],
    responses=_errors(400, 404),
)
def put_owner(
    corpus: str, user_id: RowId, request: Request, session: DbSession, admin: AdminUser
) -> MemberOut:
    """Make an agent (procedures) or a teacher (course) an owner of the corpus."""
    target = corpus_or_404(session, corpus)
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, "unknown_user")
    return _add_member(session, target, user, "owner", by=actor(request, admin))


@router.delete(
    "/admin/corpora/{corpus}/owners/{user_id}",
    status_code=204,
    response_class=Response,
    tags=["admin"],
    responses=_errors(400, 404),
)
def delete_owner(
    corpus: str, user_id: RowId, request: Request, session: DbSession, admin: AdminUser
) -> Response:
    """Take an owner off the corpus."""
    target = corpus_or_404(session, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=target,
        user_id=user_id,
        membership="owner",
        by=actor(request, admin),
    ):
        raise ApiError(404, "unknown_member")
    return Response(status_code=204)


@router.get("/admin/audit", response_model=AuditOut, tags=["admin"], responses=_errors(403))
def audit_log(
    session: DbSession, admin: AdminUser, limit: int = Query(default=100, ge=1, le=1000)
) -> AuditOut:
    """The latest audit events, newest first."""
    rows = audit.recent(session=session, limit=limit)
    return AuditOut(
        events=[
            AuditEventOut(
                id=r.id,
                at=r.at,
                event=r.event,
                actor_id=r.actor_id,
                subject_id=r.subject_id,
                corpus=r.corpus,
                token_id=r.token_id,
                detail=r.detail,
            )
            for r in rows
        ]
    )
