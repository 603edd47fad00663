"""What several app hosts share through the database: the session key, the originals of an
older install, and sign-ins (a cookie set by one host is honoured by another)."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from accounts.models import Role
from corpora import originals
from corpora.models import DocumentStatus, DocumentVersion
from database import make_engine, make_session_factory, transaction
from server.schema import alembic_config, upgrade
from server.security.keys import SESSION_KEY, shared_secret
from server.security.sessions import SESSION_COOKIE, secret_key
from server.state import open_database
from tests.conftest import make_settings
from tests.factories import make_corpus, make_document
from tests.fake_engine import FakeEngine
from tests.server.accounts_fixtures import add_user, secure_app, sign_in
from tests.storage import Storage

ORIGINALS = "0009_issue21_originals"


def _database_url(tmp_path: Path, storage: Storage) -> str:
    return storage.database_url or f"sqlite:///{tmp_path / 'shared.sqlite'}"


def test_a_cookie_set_by_one_host_is_honoured_by_another(
    tmp_path: Path, storage: Storage, fake_engine: FakeEngine
) -> None:
    shared = {**storage.settings(), "database_url": _database_url(tmp_path, storage)}
    host_a = make_settings(tmp_path / "a", **{**shared, "secret_key": None})
    host_b = make_settings(tmp_path / "b", **{**shared, "secret_key": None})
    with (
        TestClient(secure_app(host_a, fake_engine)) as on_a,
        TestClient(secure_app(host_b, fake_engine)) as on_b,
    ):
        add_user(on_a, "agent-a", Role.agent)
        sign_in(on_a, "agent-a")
        assert on_b.get("/account", follow_redirects=False).status_code == 401  # not yet
        on_b.cookies.clear()  # the browser now sends host A's session cookie to host B
        on_b.cookies.set(SESSION_COOKIE, on_a.cookies[SESSION_COOKIE])
        account = on_b.get("/account", follow_redirects=False)
        assert account.status_code == 200 and "agent-a" in account.text
    assert not (tmp_path / "a" / "secret_key").exists()
    assert not (tmp_path / "b" / "secret_key").exists()


def test_hosts_starting_at_once_agree_on_one_key(tmp_path: Path, storage: Storage) -> None:
    url = _database_url(tmp_path, storage)
    migrated = make_engine(url)
    upgrade(migrated)
    migrated.dispose()
    hosts = 6
    ready = threading.Barrier(hosts)

    def start(host: int) -> str:
        engine = make_engine(url)
        try:
            ready.wait()
            return shared_secret(engine=engine, name=SESSION_KEY, candidate=f"key-of-host-{host}")
        finally:
            engine.dispose()

    with ThreadPoolExecutor(hosts) as pool:
        keys = set(pool.map(start, range(hosts)))
    assert len(keys) == 1 and keys <= {f"key-of-host-{h}" for h in range(hosts)}


def test_an_older_install_keeps_its_key_and_its_originals(tmp_path: Path, storage: Storage) -> None:
    data_dir = tmp_path / "data"
    url = storage.database_url or f"sqlite:///{data_dir / 'guichet.db'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:  # the schema as it was before this change
        config.attributes["connection"] = connection
        for head in ScriptDirectory.from_config(config).get_heads():
            if head != ORIGINALS:
                command.upgrade(config, head)
    original = b"# Carte\n\nUne photo d'identit\xc3\xa9 r\xc3\xa9cente."
    kept = data_dir / "uploads" / "mairie" / "1" / "v1.md"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(original)
    (data_dir / "secret_key").write_text("the-key-of-the-older-install\n")
    with transaction(make_session_factory(engine)) as session:
        document = make_document(session=session, corpus=make_corpus(session=session), versions=0)
        version = DocumentVersion(
            document_id=document.id,
            version=1,
            sha256=hashlib.sha256(original).hexdigest(),
            size_bytes=len(original),
            stored_path=str(kept),
            status=DocumentStatus.indexed,
        )
        session.add(version)
        session.flush()
        version_id = version.id
    engine.dispose()

    settings = make_settings(data_dir, database_url=url, secret_key=None)
    db, sessions = open_database(settings)  # what a host does when it starts
    try:
        with sessions() as session:
            assert originals.read(session=session, version_id=version_id) == original
            assert session.get_one(DocumentVersion, version_id).stored_path is None
        # Sessions signed before the upgrade, and source credentials, stay valid.
        assert secret_key(settings, db) == "the-key-of-the-older-install"
        elsewhere = make_settings(tmp_path / "other-host", database_url=url, secret_key=None)
        assert secret_key(elsewhere) == "the-key-of-the-older-install"
    finally:
        db.dispose()
    assert kept.read_bytes() == original  # left in place: nothing is lost
