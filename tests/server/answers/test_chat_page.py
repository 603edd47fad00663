"""The citizen page: template contract, streaming endpoint, feedback and 'ask a person'."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document

CARTE = "# Carte d'identité\n\n## Pièces\n\nFournissez une photo d'identité de moins de 6 mois."


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', page)
    return found.group(1) if found else ""


def test_empty_page_explains_what_to_do(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.template.name == "chat.html"  # type: ignore[attr-defined]
    assert "Aucun recueil de documents" in page.text
    add_corpus(client, "mairie", title="Mairie de Test")
    page = client.get("/")
    assert page.context["corpus"].name == "mairie"  # type: ignore[attr-defined]
    assert 'data-stream-url="/chat/stream"' in page.text
    assert "pas encore posé de question" in page.text


def test_stream_then_feedback_from_the_page(client: TestClient, fake_engine: FakeEngine) -> None:
    add_corpus(client, "mairie", review="never", title="Mairie de Test")
    add_document(client, "mairie", "carte.md", CARTE)
    fake_engine.reply = lambda r: "Fournissez une photo d'identité de moins de 6 mois [1]."
    headers = {"X-CSRF-Token": _csrf(client.get("/").text)}
    stream = client.post(
        "/chat/stream",
        headers=headers,
        data={"corpus": "mairie", "question": "Quelle photo pour la carte d'identité ?"},
    )
    assert stream.status_code == 200
    events = re.findall(r"^event: (\w+)$", stream.text, re.M)
    assert events[0] == "started" and events[-1] == "done"
    assert 'class="answer answer--released"' in stream.text
    assert 'href="/documents/' in stream.text  # the citation opens its document
    answer_id = re.search(r'id="answer-([0-9a-f]{32})"', stream.text).group(1)  # type: ignore[union-attr]

    page = client.get("/?corpus=mairie")
    assert f'id="answer-{answer_id}"' in page.text  # the session's questions are listed
    thanks = client.post(
        f"/chat/answers/{answer_id}/feedback",
        headers={**headers, "HX-Request": "true"},
        data={"helpful": "false", "comment": "pas clair"},
    )
    assert thanks.status_code == 200
    assert thanks.template.name == "_feedback_given.html"  # type: ignore[attr-defined]
    assert "un agent va la relire" in thanks.text
    assert 'name="helpful" value="true"' in thanks.text  # they may change their mind


def test_script_in_question_or_answer_never_reaches_the_page_raw(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    add_corpus(client, "mairie", review="never")
    add_document(client, "mairie", "carte.md", CARTE + "\n\n<script>alert('doc')</script>")
    fake_engine.reply = lambda r: "Fournissez une photo d'identité <script>alert(1)</script> [1]."
    headers = {"X-CSRF-Token": _csrf(client.get("/").text)}
    stream = client.post(
        "/chat/stream",
        headers=headers,
        data={
            "corpus": "mairie",
            "question": "Photo <script>alert('q')</script> carte d'identité ?",
        },
    )
    assert "<script>alert" not in stream.text
    assert "&lt;script&gt;" in stream.text
