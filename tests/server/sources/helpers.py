"""Set-ups the sync tests share: a town hall's small website, sources, runs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from corpora.models import Document
from corpora.repository import get_corpus
from corpora.sources.models import Source, SourceItem, SourceKind
from corpora.sources.repository import add_source
from corpora.sources.sync import RunReport
from database import transaction
from tests.helpers import state
from tests.sites import StaticSite, page

PASSEPORT = (
    "<p>Le passeport se demande en mairie, sur rendez-vous, pour les adultes comme pour les "
    "mineurs.</p><h2>Tarif</h2><p>Le timbre fiscal d'un passeport pour un adulte coûte "
    "{fee} €.</p><h2>Pièces à fournir</h2><ul><li>Une photo d'identité de moins de six "
    "mois.</li><li>Un justificatif de domicile de moins d'un an.</li></ul>"
)
NAISSANCE = (
    "<p>La naissance d'un enfant se déclare à la mairie du lieu de naissance dans les cinq "
    "jours qui suivent l'accouchement.</p><p>Le jour de la naissance n'est pas compté. "
    "Apportez le certificat du médecin ou de la sage-femme et le livret de famille.</p>"
)
CANTINE = (
    "<p>L'inscription à la cantine scolaire se fait chaque année avant le 1er juillet, "
    "auprès du service enfance de la mairie.</p><p>Le repas coûte 3,20 € pour les familles "
    "du quotient familial le plus bas.</p>"
)
# More procedures, so that one page going is a small share of the site (the removal
# threshold is 20 %).
MORE = {
    "carte-identite.html": (
        "Carte d'identité",
        "<p>La carte nationale d'identité est gratuite, sauf en cas de perte ou de vol : le "
        "timbre fiscal coûte alors 25 €.</p><p>Le dépôt du dossier se fait sur rendez-vous.</p>",
    ),
    "recensement.html": (
        "Recensement citoyen",
        "<p>Chaque jeune se fait recenser à la mairie entre ses 16 ans et la fin du troisième "
        "mois qui suit. Une attestation de recensement lui est remise.</p>",
    ),
    "elections.html": (
        "Inscription sur les listes électorales",
        "<p>L'inscription sur les listes électorales se fait en ligne ou en mairie, avec un "
        "justificatif d'identité et un justificatif de domicile.</p>",
    ),
}
LOGIN = (
    "<!doctype html><html><head><title>Connexion</title></head><body><main><h1>Connexion"
    "</h1><form method=post><label>Identifiant <input name=login></label><label>Mot de "
    "passe <input type=password name=pw></label><button>Entrer</button></form></main>"
    "</body></html>"
)


def town_hall_site(site: StaticSite, elsewhere: StaticSite, *, fee: str = "86") -> None:
    """Pages linked from the home page, as the sync tests expect them:

    passeport, naissance, cantine and three more (good pages); erreur (500), ailleurs (redirects to
    another site), espace-agents (a sign-in page), prive/ (forbidden by robots.txt), and a
    link to another site, which must never be followed."""
    links = (
        "/passeport.html",
        "/naissance.html",
        "/cantine.html",
        *(f"/{name}" for name in MORE),
        "/erreur.html",
        "/ailleurs.html",
        "/espace-agents.html",
        "/prive/notes.html",
        f"{elsewhere.url}/index.html",
    )
    site.write(
        "index.html",
        page(
            "Vos démarches",
            "<p>Retrouvez ici les démarches de la mairie de Val-d'Orme : passeport, "
            "naissance, cantine scolaire. Les horaires d'ouverture sont affichés à l'accueil."
            "</p>",
            links,
        ),
    )
    site.write("passeport.html", page("Passeport", PASSEPORT.format(fee=fee), ("/",)))
    site.write("naissance.html", page("Déclarer une naissance", NAISSANCE, ("/",)))
    site.write("cantine.html", page("Cantine scolaire", CANTINE, ("/",)))
    for name, (title, body) in MORE.items():
        site.write(name, page(title, body, ("/",)))
    site.write("espace-agents.html", LOGIN)
    site.write("prive/notes.html", page("Notes internes", "<p>Ne pas publier.</p>"))
    site.write("robots.txt", "User-agent: *\nDisallow: /prive/\n")
    site.special["/erreur.html"] = (500, {"Content-Type": "text/html"}, b"<h1>Erreur</h1>")
    site.special["/ailleurs.html"] = (302, {"Location": f"{elsewhere.url}/index.html"}, b"")


def new_source(
    client: TestClient, corpus: str, kind: SourceKind, location: str, **kw: object
) -> int:
    with transaction(state(client).sessions) as session:
        target = get_corpus(session=session, name=corpus)
        assert target is not None
        source = add_source(
            session=session, corpus=target, kind=kind, location=location, every_s=3600, **kw
        )  # type: ignore[arg-type]
        return source.id


def run(client: TestClient, source_id: int) -> RunReport:
    """One run in the foreground, through the app's own synchroniser."""
    return state(client).sync.run(source_id, trigger="cli")


def synced_documents(client: TestClient, source_id: int) -> dict[str, Document]:
    """Key (URL or path) → the document the source keeps for it."""
    with transaction(state(client).sessions) as session:
        rows = session.execute(
            select(SourceItem.key, Document)
            .join(Document, Document.id == SourceItem.document_id)
            .where(SourceItem.source_id == source_id)
        ).all()
        for _, document in rows:
            _ = document.versions  # loaded before the session closes
        return {key: document for key, document in rows}


def source_row(client: TestClient, source_id: int) -> Source:
    with transaction(state(client).sessions) as session:
        return session.get_one(Source, source_id)
