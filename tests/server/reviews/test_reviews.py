"""The review API and pages over the real app and database (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import io
import threading

from fastapi.testclient import TestClient

from tests.fake_engine import FakeEngine
from tests.server.reviews.factory import ask, course, pending_review, person

QUESTION = "Que font les poumons ?"


def _class(client: TestClient, fake_engine: FakeEngine):  # type: ignore[no-untyped-def]
    course(client, fake_engine)
    teacher = person(client, "prof", "teacher", "svt", "owner")
    student = person(client, "eleve", "student", "svt", "student")
    return teacher, student


def test_always_course_hides_answer_until_edited_approval(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    assert asked["status"] == "pending_review" and asked["answer"] is None
    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert seen["answer"] is None and seen["citations"] == []

    review = pending_review(client, teacher, asked["answer_id"])
    assert review["state"] == "pending" and review["question"] == QUESTION
    assert "policy_always" in [r["code"] for r in review["reasons"]]
    assert review["passages"][0]["title"] == "Respiration"
    claimed = client.post(
        f"/api/v1/reviews/{review['id']}/claim",
        headers=teacher.headers,
        json={"version": review["version"]},
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["state"] == "claimed"
    assert claimed.json()["claimed_by"]["name"] == "prof"
    assert claimed.json()["version"] == review["version"] + 1

    edited = "Les poumons font entrer le dioxygène dans le sang [1]."
    approved = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=teacher.headers,
        json={"version": claimed.json()["version"], "answer": edited},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["edited"] is True

    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert seen["status"] == "released"
    assert seen["answer"] == edited
    assert [c["n"] for c in seen["citations"]] == [1]
    # The asker's page (polled every 3 s while pending) now shows the text.
    page = client.get(f"/chat/answers/{asked['answer_id']}", headers=student.headers)
    assert "font entrer le dioxygène" in page.text and "hx-trigger" not in page.text


def test_two_reviewers_approving_at_once_exactly_one_wins(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    colleague = person(client, "collegue", "teacher", "svt", "owner")
    asked = ask(client, student, "svt", QUESTION)
    review = pending_review(client, teacher, asked["answer_id"])
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def approve(who: str, headers: dict[str, str], text: str) -> None:
        barrier.wait()
        response = client.post(
            f"/api/v1/reviews/{review['id']}/approve",
            headers=headers,
            json={"version": review["version"], "answer": text},
        )
        results[who] = response.status_code

    threads = [
        threading.Thread(target=approve, args=("a", teacher.headers, "Version A [1].")),
        threading.Thread(target=approve, args=("b", colleague.headers, "Version B [1].")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == [200, 409]
    winner = "Version A [1]." if results["a"] == 200 else "Version B [1]."
    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert seen["answer"] == winner
    loser = teacher if results["a"] == 409 else colleague
    again = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=loser.headers,
        json={"version": review["version"]},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "review_stale"
    assert again.json()["error"]["message"] == (
        "Cet élément a été modifié par quelqu'un d'autre, rechargez la page."
    )


def test_roles_scope_the_queue(client: TestClient, fake_engine: FakeEngine) -> None:
    teacher, student = _class(client, fake_engine)
    course(client, fake_engine, "histoire")
    other = person(client, "autre-prof", "teacher", "histoire", "owner")
    admin = person(client, "admin", "admin")
    asked = ask(client, student, "svt", QUESTION)
    review = pending_review(client, teacher, asked["answer_id"])

    assert client.get("/api/v1/reviews").status_code == 401
    assert client.get("/api/v1/reviews", headers=student.headers).status_code == 403
    assert client.get("/api/v1/reviews", headers=other.headers).json() == {"reviews": []}
    assert client.get(f"/api/v1/reviews/{review['id']}", headers=other.headers).status_code == 404
    refused = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=other.headers,
        json={"version": review["version"]},
    )
    assert refused.status_code == 404
    assert client.get(f"/api/v1/reviews/{review['id']}", headers=admin.headers).status_code == 200
    filtered = client.get("/api/v1/reviews?reason=sensitive_topic", headers=teacher.headers)
    assert filtered.json() == {"reviews": []}


def test_claim_is_shown_to_others_and_blocks_them(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    colleague = person(client, "collegue", "teacher", "svt", "owner")
    asked = ask(client, student, "svt", QUESTION)
    review = pending_review(client, teacher, asked["answer_id"])
    claimed = client.post(
        f"/api/v1/reviews/{review['id']}/claim",
        headers=teacher.headers,
        json={"version": review["version"]},
    ).json()
    seen = client.get(f"/api/v1/reviews/{review['id']}", headers=colleague.headers).json()
    assert seen["claimed_by"]["name"] == "prof" and seen["claim_expires_at"]
    assert seen["claimed_by_me"] is False
    blocked = client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=colleague.headers,
        json={"version": claimed["version"]},
    )
    assert blocked.status_code == 409
    assert blocked.json()["error"]["code"] == "review_claimed"
    assert "prof" in blocked.json()["error"]["message"]
    released = client.post(
        f"/api/v1/reviews/{review['id']}/release",
        headers=teacher.headers,
        json={"version": claimed["version"]},
    )
    assert released.status_code == 200 and released.json()["state"] == "pending"


def test_rejection_reaches_the_asker_politely(client: TestClient, fake_engine: FakeEngine) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    review = pending_review(client, teacher, asked["answer_id"])
    empty = client.post(
        f"/api/v1/reviews/{review['id']}/reject",
        headers=teacher.headers,
        json={"version": review["version"], "reason": "  "},
    )
    assert empty.status_code == 422
    rejected = client.post(
        f"/api/v1/reviews/{review['id']}/reject",
        headers=teacher.headers,
        json={"version": review["version"], "reason": "revois la leçon 1, partie 2"},
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert seen["status"] == "rejected" and seen["answer"] is None
    assert seen["message"] == (
        "L'enseignant a relu cette réponse et ne l'a pas validée : revois la leçon 1, partie 2"
    )
    page = client.get(f"/chat/answers/{asked['answer_id']}", headers=student.headers)
    assert "revois la leçon 1, partie 2" in page.text


def test_history_csv_and_stats(client: TestClient, fake_engine: FakeEngine) -> None:
    teacher, student = _class(client, fake_engine)
    first = pending_review(client, teacher, ask(client, student, "svt", QUESTION)["answer_id"])
    second = pending_review(
        client, teacher, ask(client, student, "svt", "Que font les poumons ? (2)")["answer_id"]
    )
    third = ask(client, student, "svt", "Que font les poumons ? (3)")
    client.post(
        f"/api/v1/reviews/{first['id']}/approve",
        headers=teacher.headers,
        json={"version": first["version"], "answer": "=Texte corrigé [1]."},
    )
    client.post(
        f"/api/v1/reviews/{second['id']}/reject",
        headers=teacher.headers,
        json={"version": second["version"], "reason": "hors sujet"},
    )
    exported = client.get("/api/v1/reviews/history.csv", headers=teacher.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["review_id"], r["action"], r["actor"]) for r in rows] == [
        (str(first["id"]), "approve_edited", "prof"),
        (str(second["id"]), "reject", "prof"),
    ]
    # The text the teacher had before them, kept as it was under review.
    assert rows[0]["before_text"] == first["draft"]
    assert rows[0]["before_text"].startswith("Les poumons échangent le dioxygène")
    assert rows[0]["after_text"] == "'=Texte corrigé [1]."  # no formula in spreadsheets
    assert rows[1]["note"] == "hors sujet"
    stats = client.get("/api/v1/reviews/stats?overdue_minutes=1", headers=teacher.headers).json()
    assert stats["total"]["waiting"] == 1 and stats["total"]["decided"] == 2
    assert stats["total"]["approval_rate"] == 0.0  # the only approval was edited
    assert stats["total"]["edit_rate"] == 0.5
    assert stats["total"]["rejection_rate"] == 0.5
    assert stats["total"]["median_review_seconds"] is not None
    assert [r["label"] for r in stats["per_reviewer"]] == ["prof"]
    assert stats["per_corpus"][0]["key"] == "svt"
    assert stats["overdue"] == []  # the third question waits less than a minute
    assert third["status"] == "pending_review"
    assert client.get("/api/v1/reviews/stats", headers=student.headers).status_code == 403


def test_pages_queue_item_actions_and_stale_message(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    review = pending_review(client, teacher, asked["answer_id"])
    page = client.get("/relecture", headers=teacher.headers)
    assert page.template.name == "review_queue.html"  # type: ignore[attr-defined]
    assert [r.id for r in page.context["reviews"]] == [review["id"]]  # type: ignore[attr-defined]
    assert f'href="/relecture/{review["id"]}"' in page.text
    partial = client.get(
        "/relecture?state=approved", headers={**teacher.headers, "HX-Request": "true"}
    )
    assert partial.template.name == "_review_list.html"  # type: ignore[attr-defined]
    assert partial.context["reviews"] == []  # type: ignore[attr-defined]

    item = client.get(f"/relecture/{review['id']}", headers=teacher.headers)
    assert item.template.name == "review_item.html"  # type: ignore[attr-defined]
    assert QUESTION in item.text and 'name="version"' in item.text
    assert 'for="answer-text"' in item.text and 'for="reject-reason"' in item.text
    htmx = {**teacher.headers, "HX-Request": "true"}
    claimed = client.post(
        f"/relecture/{review['id']}/claim", headers=htmx, data={"version": review["version"]}
    )
    assert claimed.status_code == 200
    assert claimed.template.name == "_review_panel.html"  # type: ignore[attr-defined]
    stale = client.post(
        f"/relecture/{review['id']}/approve",
        headers=htmx,
        data={"version": review["version"], "answer": "Texte [1]."},
    )
    assert stale.status_code == 409
    assert "Cet élément a été modifié par quelqu&#39;un d&#39;autre, rechargez" in stale.text
    approved = client.post(
        f"/relecture/{review['id']}/approve",
        headers=htmx,
        data={"version": review["version"] + 1, "answer": "Texte [1]."},
    )
    assert approved.status_code == 200
    assert approved.context["review"].state == "approved"  # type: ignore[attr-defined]

    board = client.get("/relecture/tableau", headers=teacher.headers)
    assert board.template.name == "review_dashboard.html"  # type: ignore[attr-defined]
    assert board.context["stats"].total.decided == 1  # type: ignore[attr-defined]
    assert client.get("/relecture", headers=student.headers).status_code == 403
    assert client.get("/relecture", follow_redirects=False).status_code == 303


def test_my_questions_lists_states_and_polls_pending(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    page = client.get("/mes-questions", headers=student.headers)
    assert page.template.name == "my_questions.html"  # type: ignore[attr-defined]
    assert "En cours de vérification" in page.text
    assert f'hx-get="/mes-questions/{asked["answer_id"]}"' in page.text
    review = pending_review(client, teacher, asked["answer_id"])
    client.post(
        f"/api/v1/reviews/{review['id']}/approve",
        headers=teacher.headers,
        json={"version": review["version"]},
    )
    entry = client.get(f"/mes-questions/{asked['answer_id']}", headers=student.headers)
    assert "Réponse disponible" in entry.text and "hx-trigger" not in entry.text
    assert "Les poumons échangent le dioxygène [1]." in entry.text
    # The one rule of review/access.py: the course's teacher may see it, nobody else.
    seen = client.get(f"/mes-questions/{asked['answer_id']}", headers=teacher.headers)
    assert seen.status_code == 200
    outsider = person(client, "autre", "teacher")
    other = client.get(f"/mes-questions/{asked['answer_id']}", headers=outsider.headers)
    assert other.status_code == 404
    assert client.get(f"/mes-questions/{asked['answer_id']}").status_code == 404


def test_openapi_documents_review_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    approve = paths["/api/v1/reviews/{review_id}/approve"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(approve["responses"])
    assert "/api/v1/reviews/history.csv" in paths and "/api/v1/reviews/stats" in paths
