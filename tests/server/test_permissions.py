"""The permission matrix: every route of the app × every kind of caller.

The routes are read from ``app.routes``: a route added anywhere appears here at once,
and the test fails until its expectations are written in ``TABLE``. Statuses: 401 for
nobody signed in, 403 for a caller who may not, 404 where existence is hidden (answers,
tokens and members that are someone else's; the chat page does not reveal courses).
Answers are checked twice: one a student asked with an account, one a citizen asked
anonymously (it belongs to the browser session that asked it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accounts.courses import rotate_invitation
from accounts.models import Role
from accounts.tokens import issue_token_row
from accounts.users import get_user
from corpora.repository import get_corpus
from database import transaction
from server.app import VENDOR
from server.openapi import flat_routes
from server.security.install import SecurityOptions
from server.settings import Settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_document, state
from tests.server.accounts_fixtures import (
    PASSWORD,
    add_user,
    csrf_of,
    secure_app,
    sign_in,
    standard_corpora,
)

ROLES = (
    "anonymous",
    "citizen",
    "student",
    "student_other",
    "teacher",
    "teacher_other",
    "agent",
    "agent_other",
    "admin",
)
SIGNED = ROLES[2:]
ACCOUNTS = {
    "student": (Role.student, ("svt",)),
    "student_other": (Role.student, ("histoire",)),
    "teacher": (Role.teacher, ("svt", "maths")),
    "teacher_other": (Role.teacher, ("histoire",)),
    "agent": (Role.agent, ("mairie",)),
    "agent_other": (Role.agent, ("prefecture",)),
    "admin": (Role.admin, ()),
}
# Accounts that requests change (removed, demoted...), one per role so order never matters.
SPARES = {
    "spare-student-api": (Role.student, ("svt",)),
    "spare-student-page": (Role.student, ("svt",)),
    "spare-owner-api": (Role.teacher, ("svt",)),
    "spare-owner-page": (Role.teacher, ("svt",)),
    "victim": (Role.student, ()),
    "newcomer": (Role.student, ()),
}


@dataclass
class World:
    """What the requests of the table refer to."""

    clients: dict[str, TestClient]
    csrf: dict[str, str]
    ids: dict[str, int]
    tokens: dict[str, list[int]]
    answer_id: str
    maths_code: str
    make_client: Callable[[str], tuple[TestClient, str]]
    documents: dict[str, int]
    reviews: dict[str, int]
    sources: dict[str, int]
    answers: dict[str, str]
    citizen_answer_id: str = ""
    app: Any = None

    def version(self, review: str) -> int:
        """The current version of a review item (actions must name it)."""
        from review.models import ReviewItem

        with state_of_app(self.app).sessions() as session:
            return session.get_one(ReviewItem, self.reviews[review]).version


Value = Any | Callable[[str, World], Any]


@dataclass
class Case:
    expect: dict[str, int]
    path: Value = None  # the concrete path; default: the route's path
    json: Value = None
    data: Value = None
    files: Value = None
    fresh: bool = False  # the request ends the session: use a client of its own


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def signed_in(ok: int, nobody: int = 401) -> dict[str, int]:
    return {"anonymous": nobody, "citizen": nobody, **dict.fromkeys(SIGNED, ok)}


def only(ok: int, *roles: str, other: int = 403) -> dict[str, int]:
    return {**signed_in(other), **dict.fromkeys(roles, ok)}


def per_role(template: str) -> Callable[[str, World], str]:
    return lambda role, world: template.format(role=role.replace("_", "-"), **world.ids)


SVT_COURSE = ("teacher", "admin")
ASK_SVT = {
    "anonymous": 401,
    "citizen": 401,
    "student": 200,
    "student_other": 403,
    "teacher": 200,
    "teacher_other": 403,
    "agent": 403,
    "agent_other": 403,
    "admin": 200,
}
# The one rule of review/access.py: the asker sees, rates and escalates; the corpus's
# reviewers (its owners, admins) only see; nobody else learns the answer exists.
OWN_ANSWER = {**everyone(404), "student": 200, "teacher": 200, "admin": 200}
CITIZEN_ANSWER = {**everyone(404), "citizen": 200, "agent": 200, "admin": 200}


def asker_only(status: int, asker: str = "student") -> dict[str, int]:
    return {**everyone(404), asker: status}


def of_student(template: str) -> Callable[[str, World], str]:
    return lambda role, w: template.format(w.answer_id)


def of_citizen(template: str) -> Callable[[str, World], str]:
    return lambda role, w: template.format(w.citizen_answer_id)


STUDENT_ONLY = only(200, "student", "student_other")
NEW_PASSWORD = {
    "current_password": PASSWORD,
    "new_password": PASSWORD,
    "confirm_password": PASSWORD,
}
REVIEWERS = {**only(200, "teacher", "teacher_other", "agent", "agent_other", "admin")}
SVT_ITEM = {
    **signed_in(404),
    "student": 403,
    "student_other": 403,
    "teacher": 200,
    "admin": 200,
}
REVIEW_PAGES = {**REVIEWERS, "anonymous": 303, "citizen": 303}
SVT_ITEM_PAGE = {**SVT_ITEM, "anonymous": 303, "citizen": 303}
VENDOR_STATUS = 200 if (VENDOR / "htmx.min.js").exists() else 404

TABLE: dict[tuple[str, str], list[Case]] = {
    # -- operations and the asking flow (server/api.py, server/pages.py) ------------------------
    ("GET", "/healthz"): [Case(everyone(200))],
    ("GET", "/favicon.ico"): [Case(everyone(200))],
    ("GET", "/readyz"): [Case(everyone(200))],
    ("GET", "/api/v1/corpora"): [Case(everyone(200))],
    ("POST", "/api/v1/ask"): [
        Case(ASK_SVT, json={"corpus": "svt", "question": "Que font les poumons ?"}),
        Case(everyone(200), json={"corpus": "mairie", "question": "Carte d'identité ?"}),
    ],
    ("GET", "/api/v1/answers/{answer_id}"): [
        Case(OWN_ANSWER, path=of_student("/api/v1/answers/{}")),
        Case(CITIZEN_ANSWER, path=of_citizen("/api/v1/answers/{}")),
    ],
    ("GET", "/"): [Case(everyone(200)), Case(everyone(200), path="/?corpus=svt")],
    ("POST", "/chat/ask"): [
        Case(
            {
                **{r: 303 for r, s in ASK_SVT.items() if s == 200},
                **{r: 404 for r, s in ASK_SVT.items() if s != 200},
            },
            data={"corpus": "svt", "question": "Que font les poumons ?"},
        ),
        Case(everyone(303), data={"corpus": "mairie", "question": "Carte d'identité ?"}),
    ],
    ("GET", "/chat/answers/{answer_id}"): [
        Case(OWN_ANSWER, path=of_student("/chat/answers/{}")),
        Case(CITIZEN_ANSWER, path=of_citizen("/chat/answers/{}")),
    ],
    ("GET", "/lang/{language}"): [Case(everyone(303), path="/lang/en")],
    # -- one's account (server/api_accounts.py) ---------------------------------------------------
    ("GET", "/api/v1/me"): [Case(signed_in(200))],
    ("POST", "/api/v1/me/password"): [
        Case(signed_in(204), json={"current_password": PASSWORD, "new_password": PASSWORD})
    ],
    ("GET", "/api/v1/me/tokens"): [Case(signed_in(200))],
    ("POST", "/api/v1/me/tokens"): [Case(signed_in(201), json={"label": "matrix"})],
    ("DELETE", "/api/v1/me/tokens/{token_id}"): [
        Case(
            signed_in(204),
            path=lambda role, w: f"/api/v1/me/tokens/{w.tokens.get(role, [1])[0]}",
        ),
        Case(  # someone else's token: hidden
            signed_in(404),
            path=lambda role, w: (
                "/api/v1/me/tokens/" + str(w.tokens["agent" if role != "agent" else "admin"][1])
            ),
        ),
    ],
    ("POST", "/api/v1/courses/join"): [
        Case(
            {**signed_in(403), **dict.fromkeys(("student", "student_other"), 200)},
            json=lambda role, w: {"code": w.maths_code},
        )
    ],
    ("GET", "/api/v1/courses/{corpus}/invitation"): [
        Case(only(200, *SVT_COURSE), path="/api/v1/courses/svt/invitation"),
        Case(signed_in(404), path="/api/v1/courses/nowhere/invitation"),
    ],
    ("POST", "/api/v1/courses/{corpus}/invitation"): [
        Case(only(200, *SVT_COURSE), path="/api/v1/courses/svt/invitation"),
        Case({**only(400, "admin"), "agent": 403}, path="/api/v1/courses/mairie/invitation"),
    ],
    ("DELETE", "/api/v1/courses/{corpus}/invitation"): [
        Case(only(204, "teacher_other", "admin"), path="/api/v1/courses/histoire/invitation"),
    ],
    ("GET", "/api/v1/courses/{corpus}/students"): [
        Case(only(200, *SVT_COURSE), path="/api/v1/courses/svt/students")
    ],
    ("POST", "/api/v1/courses/{corpus}/students"): [
        Case(
            only(201, *SVT_COURSE),
            path="/api/v1/courses/svt/students",
            json={"name": "newcomer"},
        )
    ],
    ("DELETE", "/api/v1/courses/{corpus}/students/{user_id}"): [
        Case(
            {**only(204, "teacher"), "admin": 404},  # the teacher removed them first
            path=per_role("/api/v1/courses/svt/students/{spare_student_api}"),
        )
    ],
    # -- administration (server/api_accounts.py) -----------------------------------------------
    ("GET", "/api/v1/admin/users"): [Case(only(200, "admin"))],
    ("POST", "/api/v1/admin/users"): [
        Case(
            only(201, "admin"),
            json=lambda role, w: {"name": f"made-by-{role.replace('_', '-')}", "role": "agent"},
        )
    ],
    ("PATCH", "/api/v1/admin/users/{user_id}"): [
        Case(
            only(200, "admin"),
            path=per_role("/api/v1/admin/users/{victim}"),
            json={"role": "student"},
        ),
        Case(only(404, "admin"), path="/api/v1/admin/users/999999", json={"active": True}),
    ],
    ("POST", "/api/v1/admin/corpora"): [
        Case(
            only(201, "admin"),
            json=lambda role, w: {
                "name": f"c-{role.replace('_', '-')}",
                "title": "T",
                "kind": "course",
                "review_policy": "always",
            },
        )
    ],
    ("GET", "/api/v1/admin/corpora/{corpus}/members"): [
        Case(only(200, "admin"), path="/api/v1/admin/corpora/svt/members")
    ],
    ("PUT", "/api/v1/admin/corpora/{corpus}/owners/{user_id}"): [
        Case(only(200, "admin"), path=per_role("/api/v1/admin/corpora/svt/owners/{teacher}"))
    ],
    ("DELETE", "/api/v1/admin/corpora/{corpus}/owners/{user_id}"): [
        Case(
            only(204, "admin"), path=per_role("/api/v1/admin/corpora/svt/owners/{spare_owner_api}")
        )
    ],
    ("GET", "/api/v1/admin/audit"): [Case(only(200, "admin"))],
    ("GET", "/api/v1/admin/outbox"): [Case(only(200, "admin"))],
    ("GET", "/api/v1/me/notifications"): [Case(signed_in(200))],
    ("PUT", "/api/v1/me/notifications"): [
        Case(signed_in(200), json={"email": "moi@example.fr", "notify": "daily"})
    ],
    # -- account pages (server/pages_accounts.py) -------------------------------------------------
    ("GET", "/login"): [Case({"anonymous": 200, "citizen": 200, **dict.fromkeys(SIGNED, 303)})],
    ("POST", "/login"): [
        Case(
            {**everyone(401), "anonymous": 403},  # no session: no CSRF token to send
            data={"name": "nobody", "password": "wrong password"},
        )
    ],
    ("POST", "/logout"): [Case(everyone(303), fresh=True)],
    ("GET", "/account"): [Case(signed_in(200))],
    ("POST", "/account/password"): [Case(signed_in(303), data=NEW_PASSWORD)],
    ("POST", "/account/notifications"): [
        Case(signed_in(303), data={"email": "moi@example.fr", "notify": "off"})
    ],
    ("POST", "/account/tokens"): [Case(signed_in(200), data={"label": "page", "days": "3"})],
    ("POST", "/account/tokens/{token_id}/revoke"): [
        Case(
            signed_in(303),
            path=lambda role, w: f"/account/tokens/{w.tokens.get(role, [0, 1])[1]}/revoke",
        )
    ],
    ("GET", "/join"): [Case(signed_in(200))],
    ("POST", "/join"): [
        Case(
            STUDENT_ONLY | {"student": 303, "student_other": 303},
            data=lambda role, w: {"code": w.maths_code},
        )
    ],
    ("GET", "/account/courses/{corpus}"): [
        Case(only(200, *SVT_COURSE), path="/account/courses/svt")
    ],
    ("POST", "/account/courses/{corpus}/invitation"): [
        Case(only(303, *SVT_COURSE), path="/account/courses/svt/invitation")
    ],
    ("POST", "/account/courses/{corpus}/students"): [
        Case(
            only(303, *SVT_COURSE), path="/account/courses/svt/students", data={"name": "newcomer"}
        )
    ],
    ("POST", "/account/courses/{corpus}/students/{user_id}/remove"): [
        Case(
            {**only(303, "teacher"), "admin": 404},
            path=per_role("/account/courses/svt/students/{spare_student_page}/remove"),
        )
    ],
    ("GET", "/admin"): [Case(only(200, "admin"))],
    ("POST", "/admin/users"): [
        Case(
            only(303, "admin"),
            data=lambda role, w: {"name": f"page-{role.replace('_', '-')}", "role": "agent"},
        )
    ],
    ("POST", "/admin/users/{user_id}"): [
        Case(only(303, "admin"), path=per_role("/admin/users/{victim}"), data={"role": "student"})
    ],
    ("POST", "/admin/users/{user_id}/email"): [
        Case(
            only(303, "admin"),
            path=per_role("/admin/users/{victim}/email"),
            data={"email": "victime@example.fr"},
        )
    ],
    ("POST", "/admin/corpora"): [
        Case(
            only(303, "admin"),
            data=lambda role, w: {"name": f"p-{role.replace('_', '-')}", "title": "T"},
        )
    ],
    ("POST", "/admin/corpora/{corpus}/owners"): [
        Case(only(303, "admin"), path="/admin/corpora/svt/owners", data={"name": "teacher"})
    ],
    ("POST", "/admin/corpora/{corpus}/owners/{user_id}/remove"): [
        Case(
            only(303, "admin"), path=per_role("/admin/corpora/svt/owners/{spare_owner_page}/remove")
        )
    ],
    # -- framework routes and static files -----------------------------------------------------
    ("GET", "/openapi.json"): [Case(everyone(200))],
    ("GET", "/docs"): [Case(everyone(200))],
    ("GET", "/docs/oauth2-redirect"): [Case(everyone(200))],
    ("GET", "/redoc"): [Case(everyone(200))],
    # -- answers: streaming, feedback, a person (server/api.py, server/pages.py) ------------------
    ("POST", "/api/v1/ask/stream"): [
        Case(ASK_SVT, json={"corpus": "svt", "question": "Que font les poumons ?"}),
        Case(everyone(200), json={"corpus": "mairie", "question": "Carte d'identité ?"}),
    ],
    ("POST", "/chat/stream"): [
        Case(
            {r: (200 if s == 200 else 404) for r, s in ASK_SVT.items()},
            data={"corpus": "svt", "question": "Que font les poumons ?"},
        ),
        Case(everyone(200), data={"corpus": "mairie", "question": "Carte d'identité ?"}),
    ],
    ("POST", "/api/v1/answers/{answer_id}/feedback"): [
        Case(
            asker_only(201),
            path=of_student("/api/v1/answers/{}/feedback"),
            json={"helpful": True},
        ),
        Case(
            asker_only(201, "citizen"),
            path=of_citizen("/api/v1/answers/{}/feedback"),
            json={"helpful": True},
        ),
    ],
    ("POST", "/api/v1/answers/{answer_id}/human"): [
        Case(asker_only(200), path=of_student("/api/v1/answers/{}/human")),
        Case(asker_only(200, "citizen"), path=of_citizen("/api/v1/answers/{}/human")),
    ],
    ("POST", "/chat/answers/{answer_id}/feedback"): [
        # Without htmx, the form posts and goes back to the conversation (303).
        Case(
            asker_only(303),
            path=of_student("/chat/answers/{}/feedback"),
            data={"helpful": "true"},
        ),
        Case(
            asker_only(303, "citizen"),
            path=of_citizen("/chat/answers/{}/feedback"),
            data={"helpful": "true"},
        ),
    ],
    ("POST", "/chat/answers/{answer_id}/human"): [
        Case(asker_only(303), path=of_student("/chat/answers/{}/human"), data={}),
        Case(asker_only(303, "citizen"), path=of_citizen("/chat/answers/{}/human"), data={}),
    ],
    # -- documents (server/api_documents.py, server/pages_documents.py) -------------------------
    ("POST", "/api/v1/corpora/{name}/documents"): [
        Case(
            {**signed_in(403), "agent": 202, "admin": 202},
            path="/api/v1/corpora/mairie/documents",
            files=lambda role, w: [("files", (f"{role}.md", f"# {role}".encode(), "text/plain"))],
        )
    ],
    ("GET", "/api/v1/corpora/{name}/documents"): [
        Case(
            {**signed_in(403), "agent": 200, "admin": 200}, path="/api/v1/corpora/mairie/documents"
        )
    ],
    ("GET", "/api/v1/documents/{document_id}"): [
        Case(
            {**signed_in(403), "agent": 200, "admin": 200},
            path=lambda role, w: f"/api/v1/documents/{w.documents['carte']}",
        ),
        # A course's document: unknown (404) to whoever may not read the course, as a
        # missing id is; refused (403) only to its students, who know it exists.
        Case(
            {**everyone(404), "student": 403, "teacher": 200, "admin": 200},
            path=lambda role, w: f"/api/v1/documents/{w.documents['respiration']}",
        ),
        Case(everyone(404), path="/api/v1/documents/999999"),
    ],
    ("GET", "/api/v1/documents/{document_id}/original"): [
        # The served version: whoever may read the document (its page is public too).
        Case(
            everyone(200), path=lambda role, w: f"/api/v1/documents/{w.documents['carte']}/original"
        ),
        # A course's document: its students read it; unknown to everyone else but its owners.
        Case(
            {**everyone(404), "student": 200, "teacher": 200, "admin": 200},
            path=lambda role, w: f"/api/v1/documents/{w.documents['respiration']}/original",
        ),
        Case(everyone(404), path="/api/v1/documents/999999/original"),
    ],
    ("DELETE", "/api/v1/documents/{document_id}"): [
        Case(  # the agent deletes it; afterwards it is gone for everyone
            {**signed_in(403), "agent": 204, "agent_other": 404, "admin": 404},
            path=lambda role, w: f"/api/v1/documents/{w.documents['spare-api']}",
        )
    ],
    ("GET", "/documents"): [Case(signed_in(200, nobody=303))],
    ("GET", "/corpora/{name}/documents"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 200, "admin": 200},
            path="/corpora/mairie/documents",
        )
    ],
    ("POST", "/corpora/{name}/open-data"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "admin": 303},
            path="/corpora/mairie/open-data",
            data={"licence": "Licence Ouverte 2.0"},  # not published: export routes stay 404
        )
    ],
    ("POST", "/corpora/{name}/documents"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "admin": 303},
            path="/corpora/mairie/documents",
            files=lambda role, w: [("files", (f"page-{role}.md", b"# Page", "text/plain"))],
        )
    ],
    ("GET", "/documents/{document_id}/delete"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 200, "admin": 200},
            path=lambda role, w: f"/documents/{w.documents['spare-page']}/delete",
        )
    ],
    ("POST", "/documents/{document_id}/delete"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "agent_other": 404, "admin": 404},
            path=lambda role, w: f"/documents/{w.documents['spare-page']}/delete",
            data={"confirm": "yes"},
        )
    ],
    ("GET", "/documents/{document_id}"): [
        Case(everyone(200), path=lambda role, w: f"/documents/{w.documents['carte']}")
    ],
    # -- sources (server/sources/api.py, server/sources/pages.py) -------------------------------
    # Their sites are on 127.0.0.1 (refused by the private-network rule): runs touch nothing.
    ("GET", "/api/v1/corpora/{name}/sources"): [
        Case({**signed_in(403), "agent": 200, "admin": 200}, path="/api/v1/corpora/mairie/sources")
    ],
    ("POST", "/api/v1/corpora/{name}/sources"): [
        Case(
            {**signed_in(403), "agent": 201, "admin": 201},
            path="/api/v1/corpora/mairie/sources",
            json=lambda role, w: {"kind": "website", "location": f"http://127.0.0.1:9/{role}/"},
        )
    ],
    ("GET", "/api/v1/sources/{source_id}"): [
        Case(
            {**signed_in(403), "agent": 200, "admin": 200},
            path=lambda role, w: f"/api/v1/sources/{w.sources['site']}",
        )
    ],
    ("DELETE", "/api/v1/sources/{source_id}"): [
        Case(  # the agent removes it; afterwards it is unknown to everyone
            {**signed_in(403), "agent": 204, "agent_other": 404, "admin": 404},
            path=lambda role, w: f"/api/v1/sources/{w.sources['spare-api']}",
        )
    ],
    ("POST", "/api/v1/sources/{source_id}/sync"): [
        Case(
            {**signed_in(403), "agent": 202, "admin": 202},
            path=lambda role, w: f"/api/v1/sources/{w.sources['site']}/sync",
            json={},
        )
    ],
    ("GET", "/corpora/{name}/sources"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "admin": 303},
            path="/corpora/mairie/sources",
        )
    ],
    ("POST", "/corpora/{name}/sources"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "admin": 303},
            path="/corpora/mairie/sources",
            data=lambda role, w: {"kind": "website", "location": f"http://127.0.0.1:9/p-{role}/"},
        )
    ],
    ("POST", "/sources/{source_id}/sync"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "admin": 303},
            path=lambda role, w: f"/sources/{w.sources['site']}/sync",
            data={},
        )
    ],
    ("POST", "/sources/{source_id}/delete"): [
        Case(
            {**signed_in(403, nobody=303), "agent": 303, "agent_other": 404, "admin": 404},
            path=lambda role, w: f"/sources/{w.sources['spare-page']}/delete",
            data={},
        )
    ],
    # -- review queue (server/api_reviews.py, server/pages_review.py) ---------------------------
    ("GET", "/api/v1/reviews"): [Case(REVIEWERS)],
    ("GET", "/api/v1/reviews/history.csv"): [Case(REVIEWERS)],
    ("GET", "/api/v1/reviews/stats"): [Case(REVIEWERS)],
    ("GET", "/api/v1/reviews/{review_id}"): [
        Case(SVT_ITEM, path=lambda role, w: f"/api/v1/reviews/{w.reviews['claim']}")
    ],
    ("POST", "/api/v1/reviews/{review_id}/claim"): [
        Case(
            {**SVT_ITEM, "admin": 409},  # the teacher holds it now
            path=lambda role, w: f"/api/v1/reviews/{w.reviews['claim']}/claim",
            json=lambda role, w: {"version": w.version("claim")},
        )
    ],
    ("POST", "/api/v1/reviews/{review_id}/release"): [
        Case(
            {**SVT_ITEM, "teacher": 409, "admin": 409},  # nobody holds it
            path=lambda role, w: f"/api/v1/reviews/{w.reviews['release']}/release",
            json=lambda role, w: {"version": w.version("release")},
        )
    ],
    ("POST", "/api/v1/reviews/{review_id}/approve"): [
        Case(
            {**SVT_ITEM, "admin": 409},  # the teacher decided first
            path=lambda role, w: f"/api/v1/reviews/{w.reviews['approve']}/approve",
            json=lambda role, w: {"version": w.version("approve")},
        )
    ],
    ("POST", "/api/v1/reviews/{review_id}/reject"): [
        Case(
            {**SVT_ITEM, "admin": 409},
            path=lambda role, w: f"/api/v1/reviews/{w.reviews['reject']}/reject",
            json=lambda role, w: {"version": w.version("reject"), "reason": "Hors programme."},
        )
    ],
    ("GET", "/relecture"): [Case(REVIEW_PAGES)],
    ("GET", "/relecture/tableau"): [Case(REVIEW_PAGES)],
    # The menu's waiting count: nothing (204) for whoever reviews nothing.
    ("GET", "/relecture/attente"): [
        Case(
            {
                **everyone(204),
                **dict.fromkeys(("teacher", "teacher_other", "agent", "agent_other", "admin"), 200),
            }
        )
    ],
    ("GET", "/relecture/{review_id}"): [
        Case(SVT_ITEM_PAGE, path=lambda role, w: f"/relecture/{w.reviews['page']}")
    ],
    ("POST", "/relecture/{review_id}/{action}"): [
        Case(
            {**SVT_ITEM_PAGE, "teacher": 303, "admin": 409},
            path=lambda role, w: f"/relecture/{w.reviews['page']}/claim",
            data=lambda role, w: {"version": str(w.version("page"))},
        )
    ],
    ("GET", "/mes-questions"): [Case(everyone(200))],
    ("GET", "/mes-questions/{answer_id}"): [
        Case(OWN_ANSWER, path=of_student("/mes-questions/{}")),
        Case(CITIZEN_ANSWER, path=of_citizen("/mes-questions/{}")),
    ],
    # -- transparency and information pages (pages_transparency.py, pages_info.py) -------------
    ("GET", "/transparence"): [Case(everyone(200))],
    ("GET", "/transparence/export/{corpus}/verified.jsonl"): [
        Case(everyone(404), path="/transparence/export/mairie/verified.jsonl")
    ],
    ("GET", "/transparence/export/{corpus}/datasheet.md"): [
        Case(everyone(404), path="/transparence/export/mairie/datasheet.md")
    ],
    ("GET", "/accessibilite"): [Case(everyone(200))],
    ("MOUNT", "/static"): [Case(everyone(200), path="/static/guichet.css")],
    ("MOUNT", "/vendor"): [Case(everyone(VENDOR_STATUS), path="/vendor/htmx.min.js")],
}


def route_keys(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route of the app; ("MOUNT", path) for mounted apps."""
    for route in flat_routes(app):
        if route.mount:
            yield "MOUNT", route.path
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path


@pytest.fixture
def world(settings: Settings, fake_engine: FakeEngine) -> Iterator[World]:
    options = SecurityOptions(ask_per_minute=10_000, login_per_minute=10_000)
    app = secure_app(settings, fake_engine, options)
    with TestClient(app) as admin_client:
        standard_corpora(admin_client)
        from tests.helpers import add_corpus

        add_corpus(admin_client, "maths", kind="course", review="always", title="Maths")
        text = "# Respiration\n\nLes poumons échangent le dioxygène. Carte d'identité : mairie."
        respiration = add_document(admin_client, "svt", "respiration.md", text)
        documents = {
            name: add_document(admin_client, "mairie", f"{name}.md", f"# {name}\n\nEn mairie.")
            for name in ("carte", "spare-api", "spare-page")
        }
        documents["respiration"] = respiration
        from corpora.sources.models import SourceKind
        from corpora.sources.repository import add_source

        with transaction(state(admin_client).sessions) as session:
            mairie = get_corpus(session=session, name="mairie")
            assert mairie is not None
            sources = {
                name: add_source(
                    session=session,
                    corpus=mairie,
                    kind=SourceKind.website,
                    location=f"http://127.0.0.1:9/{name}/",
                    every_s=3600,
                ).id
                for name in ("site", "spare-api", "spare-page")
            }
        ids = {
            name.replace("-", "_"): add_user(admin_client, name, role, corpora=corpora)
            for name, (role, corpora) in {**ACCOUNTS, **SPARES}.items()
        }
        tokens: dict[str, list[int]] = {}
        with transaction(state(admin_client).sessions) as session:
            for name in ACCOUNTS:
                user = get_user(session=session, name=name)
                assert user is not None
                tokens[name] = [issue_token_row(session=session, user=user)[1].id for _ in "ab"]
            teacher = get_user(session=session, name="teacher")
            assert teacher is not None
            codes = {}
            for course in ("svt", "histoire", "maths"):
                corpus = get_corpus(session=session, name=course)
                assert corpus is not None
                codes[course] = rotate_invitation(session=session, corpus=corpus, by=teacher).code

        opened: list[TestClient] = []

        def make_client(role: str) -> tuple[TestClient, str]:
            client = TestClient(app)
            client.__enter__()
            opened.append(client)
            if role == "anonymous":
                return client, ""
            if role == "citizen":
                return client, csrf_of(client, "/")
            return client, sign_in(client, role)

        clients, csrf = {}, {}
        for role in ROLES:
            clients[role], csrf[role] = make_client(role)
        fake_engine.reply = lambda request: "Les poumons échangent le dioxygène [1]."
        asked = clients["student"].post(
            "/api/v1/ask",
            json={"corpus": "svt", "question": "Que font les poumons ?"},
            headers={"X-CSRF-Token": csrf["student"]},
        )
        assert asked.status_code == 200
        # An answer asked anonymously: it belongs to the citizen's browser session.
        by_citizen = clients["citizen"].post(
            "/api/v1/ask",
            json={"corpus": "mairie", "question": "Carte d'identité ?"},
            headers={"X-CSRF-Token": csrf["citizen"]},
        )
        assert by_citizen.status_code == 200, by_citizen.text
        # One held answer per review action, so that no action changes another's item.
        answers: dict[str, str] = {}
        for action in ("claim", "release", "approve", "reject", "page"):
            held = clients["student"].post(
                "/api/v1/ask",
                json={"corpus": "svt", "question": "Que font les poumons ?"},
                headers={"X-CSRF-Token": csrf["student"]},
            )
            assert held.json()["status"] == "pending_review", held.text
            answers[action] = held.json()["answer_id"]
        from review.models import ReviewItem

        with state(admin_client).sessions() as session:
            reviews = {
                action: session.query(ReviewItem).filter_by(answer_id=answer_id).one().id
                for action, answer_id in answers.items()
            }
        yield World(
            clients=clients,
            csrf=csrf,
            ids=ids,
            tokens=tokens,
            answer_id=asked.json()["answer_id"],
            maths_code=codes["maths"],
            make_client=make_client,
            documents=documents,
            reviews=reviews,
            sources=sources,
            answers=answers,
            citizen_answer_id=by_citizen.json()["answer_id"],
            app=app,
        )
        for client in opened:
            client.__exit__(None, None, None)


def state_of_app(app: Any) -> Any:
    return app.state.guichet


def _value(value: Value, role: str, world: World) -> Any:
    return value(role, world) if callable(value) else value


def test_every_route_is_in_the_table(world: World) -> None:
    app = world.clients["admin"].app
    missing = [key for key in route_keys(app) if key not in TABLE]
    assert not missing, f"routes without permission expectations in TABLE: {missing}"
    stale = set(TABLE) - set(route_keys(app))
    assert not stale, f"TABLE names routes that no longer exist: {sorted(stale)}"


def test_permission_matrix(world: World) -> None:
    app = world.clients["admin"].app
    failures: list[str] = []
    for key in route_keys(app):
        method, route_path = key
        for case in TABLE.get(key, []):
            assert set(case.expect) == set(ROLES), key
            for role in ROLES:
                client, csrf = world.clients[role], world.csrf[role]
                if case.fresh:
                    client, csrf = world.make_client(role)
                if role == "anonymous":
                    client.cookies.clear()  # never any session: truly anonymous
                path = _value(case.path, role, world) or route_path
                headers = {"X-CSRF-Token": csrf} if csrf else {}
                data = _value(case.data, role, world)
                response = client.request(
                    "GET" if method == "MOUNT" else method,
                    path,
                    json=_value(case.json, role, world),
                    data=data,
                    files=_value(case.files, role, world),
                    headers=headers,
                    follow_redirects=False,
                )
                if key == ("POST", "/logout") and role in SIGNED:
                    # Signing out ends every session of the account on the server (#16):
                    # the role's main client signs in again.
                    world.csrf[role] = sign_in(world.clients[role], role)
                if response.status_code != case.expect[role]:
                    failures.append(
                        f"{method} {path} as {role}: {response.status_code}, expected "
                        f"{case.expect[role]} ({response.text[:120]!r})"
                    )
    assert not failures, "\n".join(failures)
