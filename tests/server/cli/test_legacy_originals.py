"""`guichet ingest` on an older install: a version queued before originals moved into the
database, whose file is still in the data folder, is moved there and indexed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from corpora import originals
from corpora.models import Document, DocumentStatus, DocumentVersion
from database import make_engine, make_session_factory, transaction
from server.cli import app
from server.schema import upgrade
from server.settings import Settings
from tests.factories import make_corpus
from tests.storage import settings_env

OLD = "# Cantine\n\nLe repas coûte 3 euros.".encode()


def test_ingest_moves_and_indexes_a_version_an_older_install_queued(
    tmp_path: Path, settings: Settings
) -> None:
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    kept = settings.data_dir / "uploads" / "mairie" / "1" / "v1.md"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(OLD)
    with transaction(sessions) as session:
        corpus = make_corpus(session=session)
        document = Document(
            corpus_id=corpus.id,
            filename="cantine.md",
            status=DocumentStatus.queued,
            latest_version=1,
        )
        session.add(document)
        session.flush()
        session.add(
            DocumentVersion(
                document_id=document.id,
                version=1,
                sha256=hashlib.sha256(OLD).hexdigest(),
                size_bytes=len(OLD),
                stored_path=str(kept),
                status=DocumentStatus.queued,
            )
        )
    new = tmp_path / "horaires.md"
    new.write_text("# Horaires\n\nLa mairie ouvre à 9 h.", encoding="utf-8")

    done = CliRunner().invoke(
        app, ["ingest", str(new), "--corpus", "mairie"], env=settings_env(settings)
    )

    assert done.exit_code == 0, done.output
    assert "1 document(s) indexé(s), 0 échec(s)." in " ".join(done.output.split())
    with sessions() as session:
        version = session.scalars(
            select(DocumentVersion).join(Document).where(Document.filename == "cantine.md")
        ).one()
        assert version.status == DocumentStatus.indexed and version.stored_path is None
        assert originals.read(session=session, version_id=version.id) == OLD
    engine.dispose()
    assert kept.read_bytes() == OLD
