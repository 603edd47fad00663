"""What a review publishes (issue #17): the reviewer's text exactly as written, the
sources kept, energy only for what the model wrote, the asker's words per context, one
opinion per answer shown to its reviewer, and dashboard shares that add up."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts.audit import AuditEvent
from review.models import Feedback, ReviewItem, ReviewState
from tests.fake_engine import FakeEngine
from tests.helpers import state
from tests.server.reviews.factory import Person, ask, course, pending_review, person

QUESTION = "Que font les poumons ?"
FRENCH = "Les poumons : fécondation ; les ovules ! Vraiment ? Oui [1]."


def _class(client: TestClient, fake_engine: FakeEngine) -> tuple[Person, Person]:
    course(client, fake_engine)
    teacher = person(client, "prof", "teacher", "svt", "owner")
    student = person(client, "eleve", "student", "svt", "student")
    return teacher, student


def _decide(client: TestClient, who: Person, review: dict, action: str, **body: str) -> dict:
    response = client.post(
        f"/api/v1/reviews/{review['id']}/{action}",
        headers=who.headers,
        json={"version": review["version"], **body},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_reviewer_text_is_published_as_written_with_its_sources(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    first = ask(client, student, "svt", QUESTION)
    _decide(
        client,
        teacher,
        pending_review(client, teacher, first["answer_id"]),
        "approve",
        answer=FRENCH,
    )
    seen = client.get(f"/api/v1/answers/{first['answer_id']}", headers=student.headers).json()
    assert seen["answer"] == FRENCH  # the spaces before ; : ! ? are kept
    assert [c["n"] for c in seen["citations"]] == [1]
    assert seen["energy_label"] is None  # a person wrote it
    page = client.get(f"/chat/answers/{first['answer_id']}", headers=student.headers)
    assert "fécondation ; les ovules !" in page.text

    # Reworded without any [n]: the draft's sources stay with the answer.
    second = ask(client, student, "svt", "Que font les poumons ? (bis)")
    _decide(
        client,
        teacher,
        pending_review(client, teacher, second["answer_id"]),
        "approve",
        answer="Ils échangent les gaz : dioxygène et dioxyde de carbone.",
    )
    seen = client.get(f"/api/v1/answers/{second['answer_id']}", headers=student.headers).json()
    assert seen["citations"] and seen["citations"][0]["title"] == "Respiration"

    # Approved as the model wrote it: the estimate is shown.
    third = ask(client, student, "svt", "Que font les poumons ? (ter)")
    _decide(client, teacher, pending_review(client, teacher, third["answer_id"]), "approve")
    seen = client.get(f"/api/v1/answers/{third['answer_id']}", headers=student.headers).json()
    assert seen["energy_label"] is not None


def test_a_student_is_told_of_the_teacher_never_of_an_agent(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    assert asked["reviewed_by"] == "teacher"
    assert "l'enseignant du cours" in asked["message"] and "agent" not in asked["message"]
    page = client.get(f"/chat/answers/{asked['answer_id']}", headers=student.headers)
    assert "agent" not in page.text.split("<article", 1)[1]
    review = pending_review(client, teacher, asked["answer_id"])
    _decide(client, teacher, review, "reject", reason="revois la leçon")
    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert (
        seen["message"]
        == "L'enseignant a relu cette réponse et ne l'a pas validée : revois la leçon"
    )
    page = client.get(f"/chat/answers/{asked['answer_id']}", headers=student.headers)
    assert "Demander l&#39;aide de l&#39;enseignant" in page.text


def test_one_opinion_per_answer_changeable_and_shown_to_its_reviewer(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = ask(client, student, "svt", QUESTION)
    _decide(client, teacher, pending_review(client, teacher, asked["answer_id"]), "approve")
    url = f"/api/v1/answers/{asked['answer_id']}/feedback"
    for helpful, comment in ((True, "clair"), (False, "Il manque le sang."), (False, "")):
        sent = client.post(
            url, headers=student.headers, json={"helpful": helpful, "comment": comment}
        )
        assert sent.status_code == 201, sent.text
    with state(client).sessions() as session:
        rows = session.scalars(select(Feedback).where(Feedback.answer_id == asked["answer_id"]))
        assert [(f.helpful, f.comment) for f in rows] == [(False, "Il manque le sang.")]
    seen = client.get(f"/api/v1/answers/{asked['answer_id']}", headers=student.headers).json()
    assert seen["feedback"] == "not_helpful"
    review = pending_review(client, teacher, asked["answer_id"])  # back in the queue
    assert review["feedback"]["comment"] == "Il manque le sang."
    assert review["feedback"]["helpful"] is False
    page = client.get(f"/relecture/{review['id']}", headers=teacher.headers)
    assert "Il manque le sang." in page.text


def test_dashboard_shares_add_up_against_the_database(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    teacher, student = _class(client, fake_engine)
    asked = [ask(client, student, "svt", f"{QUESTION} ({n})") for n in range(4)]
    reviews = [pending_review(client, teacher, a["answer_id"]) for a in asked]
    _decide(client, teacher, reviews[0], "approve")
    _decide(client, teacher, reviews[1], "approve", answer="Ils échangent les gaz [1].")
    _decide(client, teacher, reviews[2], "reject", reason="hors sujet")
    stats = client.get("/api/v1/reviews/stats", headers=teacher.headers).json()["total"]
    with state(client).sessions() as session:
        decided = session.scalar(
            select(func.count()).where(
                ReviewItem.state.in_([ReviewState.approved, ReviewState.rejected])
            )
        )
        edited = session.scalar(select(func.count()).where(ReviewItem.edited.is_(True)))
    assert stats["decided"] == decided == 3 and stats["waiting"] == 1
    assert stats["edit_rate"] == edited / decided
    assert stats["approval_rate"] == stats["edit_rate"] == stats["rejection_rate"] == 1 / 3
    total = stats["approval_rate"] + stats["edit_rate"] + stats["rejection_rate"]
    assert abs(total - 1) < 1e-9
    # Each decision is in the audit log, by whom, on which item (#17).
    with state(client).sessions() as session:
        decisions = session.execute(
            select(AuditEvent.event, AuditEvent.actor_id, AuditEvent.detail).where(
                AuditEvent.event.in_(["review_approved", "review_rejected"])
            )
        ).all()
    assert sorted((e, d["review_id"], d.get("edited")) for e, _, d in decisions) == [
        ("review_approved", reviews[0]["id"], False),
        ("review_approved", reviews[1]["id"], True),
        ("review_rejected", reviews[2]["id"], None),
    ]
    assert {actor for _, actor, _ in decisions} == {teacher.id}
    page = client.get("/relecture/tableau", headers=teacher.headers)
    assert page.text.count("33\xa0%") >= 3  # Babel's French: « 33 % »
