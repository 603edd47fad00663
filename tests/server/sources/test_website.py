"""A website kept in sync: a real static site on 127.0.0.1, read through the app's own
synchroniser and document lifecycle (real storage, real search index)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from corpora.models import Document
from corpora.sources.models import SourceKind
from database import transaction
from tests.helpers import add_corpus, add_document, state
from tests.server.sources.helpers import (
    PASSEPORT,
    new_source,
    run,
    synced_documents,
    town_hall_site,
)
from tests.sites import StaticSite, page


def test_first_run_reads_the_site_and_names_every_bad_page(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")

    report = run(client, source)

    assert report.status == "done"
    assert (report.added, report.updated, report.removed) == (7, 0, 0)
    failures = {f["item"].removeprefix(site.url): f["code"] for f in report.failures}
    assert failures == {
        "/erreur.html": "server_error",
        "/ailleurs.html": "offsite_redirect",
        "/espace-agents.html": "login_page",
    }
    assert report.failed == 3
    # robots.txt obeyed, the other site never asked (neither by link nor by redirect).
    assert "/prive/notes.html" not in site.paths()
    assert elsewhere.requests == []
    documents = synced_documents(client, source)
    passeport = documents[f"{site.url}/passeport.html"]
    assert passeport.title == "Passeport"
    assert passeport.source_url == f"{site.url}/passeport.html"
    assert passeport.indexed_version == 1
    # The main content only: the menu and the footer of the page are not indexed.
    chunks = state(client).index.document_chunks(corpus="mairie", document_id=str(passeport.id))
    text = " ".join(c.text for c in chunks)
    assert "86 €" in text and "mentions légales" not in text


def test_second_run_costs_a_304_per_page_and_changes_nothing(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)
    versions = {k: d.latest_version for k, d in synced_documents(client, source).items()}
    site.requests.clear()

    again = run(client, source)

    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 7, 0)
    assert site.answered("/passeport.html") == [304]
    asked = next(h for p, _, h in site.requests if p == "/passeport.html")
    assert "If-Modified-Since" in asked
    # The home page answered 304 too, and its links (kept from the first run) still led on.
    assert site.answered("/") == [304]
    assert {k: d.latest_version for k, d in synced_documents(client, source).items()} == versions


def test_a_changed_page_is_a_new_version_and_a_removed_page_goes(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)
    before = synced_documents(client, source)

    site.write("passeport.html", page("Passeport", PASSEPORT.format(fee="96"), ("/",)))
    (site.root / "cantine.html").unlink()
    report = run(client, source)

    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    after = synced_documents(client, source)
    passeport = after[f"{site.url}/passeport.html"]
    assert passeport.id == before[f"{site.url}/passeport.html"].id
    assert passeport.indexed_version == 2
    assert f"{site.url}/cantine.html" not in after
    with transaction(state(client).sessions) as session:
        gone = session.get_one(Document, before[f"{site.url}/cantine.html"].id)
        assert gone.deleted_at is not None
    chunks = state(client).index.document_chunks(corpus="mairie", document_id=str(passeport.id))
    assert "96 €" in " ".join(c.text for c in chunks)


def test_documents_uploaded_by_hand_are_never_touched(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    # Uploaded by hand under the very name the site's page would get.
    by_hand = add_document(
        client, "mairie", "passeport.html", "<h1>Passeport</h1><p>Notre fiche.</p>"
    )
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)
    for path in site.root.glob("*.html"):
        path.unlink()
    site.write("index.html", page("Vos démarches", "<p>Le site est en travaux.</p>"))
    run(client, source)
    state(client).sync.max_removal_ratio = 1.0
    run(client, source)

    with transaction(state(client).sessions) as session:
        mine = session.get_one(Document, by_hand)
        assert mine.deleted_at is None and mine.latest_version == 1
        assert mine.source_url is None
        live = session.scalars(
            select(Document.filename).where(
                Document.corpus_id == mine.corpus_id, Document.deleted_at.is_(None)
            )
        ).all()
    assert "passeport.html" in live
    assert not any(name.startswith("passeport ~") for name in live)


def test_a_run_that_would_empty_the_corpus_waits_for_an_owner(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)
    # The site is replaced by a placeholder: every procedure page is gone.
    for path in site.root.glob("*.html"):
        path.unlink()
    site.write("index.html", page("Site en travaux", "<p>Le site revient bientôt, merci.</p>"))

    held = run(client, source)

    assert held.status == "held" and held.removed == 0
    assert len(held.held_removals) == 6
    assert f"{site.url}/passeport.html" in held.held_removals
    assert len(synced_documents(client, source)) == 7
    with transaction(state(client).sessions) as session:
        from corpora.sources.models import Source

        session.get_one(Source, source).removals_confirmed = True
    confirmed = run(client, source)
    assert confirmed.status == "done" and confirmed.removed == 6
    assert list(synced_documents(client, source)) == [f"{site.url}/"]


def test_an_unreachable_site_fails_the_run_and_loses_nothing(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    run(client, source)
    site.__exit__()

    report = run(client, source)

    assert report.status == "failed" and report.error_code == "unreachable"
    assert report.removed == 0
    documents = synced_documents(client, source)
    assert len(documents) == 7
    assert all(d.deleted_at is None for d in documents.values())


def test_a_sitemap_lists_the_pages_and_a_start_page_error_is_named(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    urls = "".join(
        f"<url><loc>{site.url}/{name}</loc></url>" for name in ("passeport.html", "naissance.html")
    )
    site.write(
        "sitemap.xml",
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
        f"<url><loc>{elsewhere.url}/index.html</loc></url></urlset>",
    )
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/sitemap.xml")
    report = run(client, source)
    assert (report.added, report.failed) == (2, 0)
    assert elsewhere.requests == []
    assert sorted(synced_documents(client, source)) == [
        f"{site.url}/naissance.html",
        f"{site.url}/passeport.html",
    ]

    missing = new_source(client, "mairie", SourceKind.website, f"{site.url}/nulle-part/")
    failed = run(client, missing)
    assert failed.status == "failed" and failed.error_code == "not_found"


def test_a_page_larger_than_the_upload_limit_is_refused(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    big = "<p>" + "Un paragraphe très long sur les démarches. " * 60_000 + "</p>"
    site.write("naissance.html", page("Déclarer une naissance", big, ("/",)))  # > 2 MB
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    report = run(client, source)
    codes = {f["item"].removeprefix(site.url): f["code"] for f in report.failures}
    assert codes["/naissance.html"] == "too_large"
    assert report.added == 6


def test_sites_on_private_networks_are_refused_unless_allowed(
    client: TestClient, site: StaticSite, elsewhere: StaticSite
) -> None:
    add_corpus(client, "mairie")
    town_hall_site(site, elsewhere)
    source = new_source(client, "mairie", SourceKind.website, f"{site.url}/")
    state(client).settings.sync_private_networks = False
    from server.sources.runner import synchronizer

    strict = synchronizer(
        sessions=state(client).sessions,
        documents=state(client).documents,
        settings=state(client).settings,
    )
    report = strict.run(source, trigger="cli")
    assert report.status == "failed" and report.error_code == "private_address"
    assert site.requests == []
