"""Errors reach people as pages in their language and programs as JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import add_corpus

PAGE = {"Accept": "text/html,application/xhtml+xml"}


def test_unknown_address_is_a_french_page_for_a_browser(client: TestClient) -> None:
    response = client.get("/demarches/inconnue", headers=PAGE)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in response.text
    assert "Cette adresse n&#39;existe pas." in response.text
    assert '<a href="/">Revenir à l&#39;accueil</a>' in response.text


def test_english_browser_gets_the_page_in_english(client: TestClient) -> None:
    headers = {**PAGE, "Accept-Language": "en-GB,en;q=0.9"}
    response = client.get("/demarches/inconnue", headers=headers)
    assert response.status_code == 404 and '<html lang="en"' in response.text
    assert "This address does not exist." in response.text
    assert "Back to the home page" in response.text


def test_programs_and_the_api_get_json(client: TestClient) -> None:
    for path, headers in (
        ("/demarches/inconnue", {}),
        ("/api/v1/inconnue", PAGE),
        ("/api/v1/answers/inconnue", PAGE),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] in {"not_found", "unknown_answer"}, path


def test_unknown_document_is_a_whole_page_or_a_fragment_for_htmx(client: TestClient) -> None:
    add_corpus(client, "mairie")
    page = client.get("/documents/999999", headers=PAGE)
    assert page.status_code == 404
    assert "<h1>Impossible d&#39;aller plus loin</h1>" in page.text
    assert "Ce document n" in page.text
    fragment = client.get("/documents/999999", headers={**PAGE, "HX-Request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.text and 'role="alert"' in fragment.text


def test_wrong_method_on_a_page_says_so(client: TestClient) -> None:
    response = client.delete("/accessibilite", headers=PAGE)
    assert response.status_code == 405
    assert "Cette opération n&#39;est pas permise à cette adresse." in response.text
