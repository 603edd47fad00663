"""The administration API: accounts, corpora and their owners, the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from accounts import audit, courses, users
from accounts.contact import set_email_recorded
from accounts.errors import AccountError
from accounts.models import Role, User
from accounts.users import list_users
from corpora.models import CorpusKind, ReviewPolicy
from server.accounts.service import corpus_named
from server.admin.schemas import (
    AuditEventOut,
    AuditOut,
    CorpusIn,
    CreatedCorpusOut,
    OutboxLineOut,
    OutboxOut,
    UserIn,
    UserOut,
    UserPatch,
    UsersOut,
)
from server.courses.schemas import MemberOut, MembersOut
from server.deps import AdminUser, DbSession, State
from server.notifications.service import outbox_view
from server.schemas import RowId, refusals
from server.security.sessions import actor

router = APIRouter(prefix="/api/v1")


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        role=user.role.value,
        active=user.active,
        created_at=user.created_at,
        email=user.email,
    )


@router.get("/admin/users", response_model=UsersOut, tags=["admin"], responses=refusals(403))
def list_accounts(session: DbSession, admin: AdminUser) -> UsersOut:
    """Every account."""
    return UsersOut(users=[user_out(u) for u in list_users(session=session)])


@router.post(
    "/admin/users",
    status_code=201,
    response_model=UserOut,
    tags=["admin"],
    responses=refusals(400),
)
def add_user(body: UserIn, request: Request, session: DbSession, admin: AdminUser) -> UserOut:
    """Create an account (without a password, it can only be used through tokens)."""
    user = users.create_user_recorded(
        session=session,
        name=body.name,
        role=Role(body.role),
        password=body.password,
        email=body.email,
        by=actor(request, admin),
    )
    return user_out(user)


@router.patch(
    "/admin/users/{user_id}",
    response_model=UserOut,
    tags=["admin"],
    responses=refusals(400, 404),
)
def patch_user(
    user_id: RowId, body: UserPatch, request: Request, session: DbSession, admin: AdminUser
) -> UserOut:
    """Change an account's role, state or e-mail address (an admin cannot change their own
    role nor deactivate themself)."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("unknown_user")
    if body.email is not None:
        set_email_recorded(session=session, user=user, email=body.email, by=actor(request, admin))
    users.update_user_recorded(
        session=session,
        user=user,
        role=Role(body.role) if body.role else None,
        active=body.active,
        by=actor(request, admin),
    )
    return user_out(user)


@router.post(
    "/admin/corpora",
    status_code=201,
    response_model=CreatedCorpusOut,
    tags=["admin"],
    responses=refusals(400),
)
def add_corpus(
    body: CorpusIn, request: Request, session: DbSession, admin: AdminUser
) -> CreatedCorpusOut:
    """Create a corpus; then give it owners."""
    corpus = courses.create_corpus_recorded(
        session=session,
        name=body.name,
        title=body.title,
        kind=CorpusKind(body.kind),
        review_policy=ReviewPolicy(body.review_policy),
        by=actor(request, admin),
    )
    return CreatedCorpusOut(
        name=corpus.name, title=corpus.title, kind=body.kind, review_policy=body.review_policy
    )


@router.get(
    "/admin/corpora/{corpus}/members",
    response_model=MembersOut,
    tags=["admin"],
    responses=refusals(403, 404),
)
def members(corpus: str, session: DbSession, admin: AdminUser) -> MembersOut:
    """A corpus's owners and students."""
    target = corpus_named(session, corpus)
    return MembersOut(
        members=[
            MemberOut(**m.__dict__) for m in courses.members_of(session=session, corpus=target)
        ]
    )


@router.put(
    "/admin/corpora/{corpus}/owners/{user_id}",
    response_model=MemberOut,
    tags=["admin"],
    responses=refusals(400, 404),
)
def put_owner(
    corpus: str, user_id: RowId, request: Request, session: DbSession, admin: AdminUser
) -> MemberOut:
    """Make an agent (procedures) or a teacher (course) an owner of the corpus."""
    target = corpus_named(session, corpus)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("unknown_user")
    courses.add_member_recorded(
        session=session, corpus=target, user=user, membership="owner", by=actor(request, admin)
    )
    return MemberOut(user_id=user.id, name=user.name, role=user.role.value, membership="owner")


@router.delete(
    "/admin/corpora/{corpus}/owners/{user_id}",
    status_code=204,
    response_class=Response,
    tags=["admin"],
    responses=refusals(400, 404),
)
def delete_owner(
    corpus: str, user_id: RowId, request: Request, session: DbSession, admin: AdminUser
) -> Response:
    """Take an owner off the corpus."""
    target = corpus_named(session, corpus)
    if not courses.remove_member_recorded(
        session=session,
        corpus=target,
        user_id=user_id,
        membership="owner",
        by=actor(request, admin),
    ):
        raise AccountError("unknown_member")
    return Response(status_code=204)


@router.get("/admin/audit", response_model=AuditOut, tags=["admin"], responses=refusals(403))
def audit_events(
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


@router.get("/admin/outbox", response_model=OutboxOut, tags=["admin"], responses=refusals(403))
def outbox(
    state: State,
    session: DbSession,
    admin: AdminUser,
    limit: int = Query(default=50, ge=1, le=500),
) -> OutboxOut:
    """The e-mails queued, sent and failed (with why), newest first."""
    view = outbox_view(session=session, settings=state.settings, limit=limit)
    return OutboxOut(
        enabled=view.enabled,
        counts=view.counts,
        messages=[OutboxLineOut(**line.__dict__) for line in view.lines],
    )
