"""Originals in the database: parts, streaming, and the files an older install left on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from corpora import originals
from corpora.models import DocumentVersion
from database import transaction
from tests.factories import make_corpus, make_document


def _legacy(sessions: sessionmaker[Session], folder: Path, contents: list[bytes]) -> list[int]:
    """Versions as an older install left them: the original only in a file on disk."""
    with transaction(sessions) as session:
        document = make_document(
            session=session, corpus=make_corpus(session=session), versions=len(contents)
        )
        ids = []
        for version, data in zip(document.versions, contents, strict=True):
            path = folder / "mairie" / str(document.id) / f"v{version.version}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            version.stored_path = str(path)
            version.sha256 = hashlib.sha256(data).hexdigest()
            version.size_bytes = len(data)
            ids.append(version.id)
    return ids


def test_an_original_is_read_whole_or_streamed_part_after_part(
    sessions: sessionmaker[Session],
) -> None:
    data = bytes(range(256)) * (2 * originals.PART_BYTES // 256) + b"fin"
    with transaction(sessions) as session:
        (version,) = make_document(session=session, corpus=make_corpus(session=session)).versions
        originals.put(session=session, version_id=version.id, data=data)
    with sessions() as session:
        assert originals.read(session=session, version_id=version.id) == data
    parts = list(originals.stream(sessions=sessions, version_id=version.id))
    assert [len(p) for p in parts] == [originals.PART_BYTES, originals.PART_BYTES, 3]
    assert b"".join(parts) == data
    with pytest.raises(originals.MissingOriginal), sessions() as session:
        originals.read(session=session, version_id=version.id + 1)
    with pytest.raises(originals.MissingOriginal):
        next(originals.stream(sessions=sessions, version_id=version.id + 1))


def test_files_an_older_install_kept_are_moved_into_the_database(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    contents = [b"# Carte\n\nversion 1", b"# Carte\n\nversion 2", b"# Carte\n\nversion 3"]
    ids = _legacy(sessions, tmp_path / "uploads", contents)
    next((tmp_path / "uploads").rglob("v2.md")).unlink()  # on another host
    changed = next((tmp_path / "uploads").rglob("v3.md"))
    changed.write_bytes(b"edited by hand")

    assert originals.adopt_files(sessions=sessions) == (1, 2)
    with sessions() as session:
        assert originals.read(session=session, version_id=ids[0]) == contents[0]
        left = session.scalars(
            select(DocumentVersion.id).where(DocumentVersion.stored_path.is_not(None))
        ).all()
        assert sorted(left) == ids[1:]  # still waiting for the host that has them
    assert changed.exists()  # files are never deleted
    assert originals.adopt_files(sessions=sessions) == (0, 2)  # moved once only

    changed.write_bytes(contents[2])
    assert originals.adopt_files(sessions=sessions) == (1, 1)
    with sessions() as session:
        assert originals.read(session=session, version_id=ids[2]) == contents[2]
