"""Where the uploaded originals live: in the database, beside the versions they belong to.

Every app host reads and writes the same originals, so an upload accepted on one host is
indexed, shown and downloaded on any other, and the database backup is the originals'
backup. A file is kept as parts of at most :data:`PART_BYTES`: it is written in the
transaction that opens its version, read back whole only to be parsed (uploads are
bounded by ``GUICHET_MAX_UPLOAD_MB``), and streamed part by part to whoever downloads it.

Installs that kept originals on disk (``<data_dir>/uploads``) have them moved here by
:func:`adopt_files` when a host starts; the files themselves are left where they were.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import ForeignKey, Integer, LargeBinary, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from corpora.models import DocumentVersion
from database import Base, transaction

log = logging.getLogger(__name__)

PART_BYTES = 1024 * 1024


class OriginalPart(Base):
    """One part of the original file of a document version."""

    __tablename__ = "original_parts"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MissingOriginal(Exception):
    """A version whose original is neither in the database nor on this host's disk."""


def put(*, session: Session, version_id: int, data: bytes) -> None:
    """Store ``data`` as the original of version ``version_id`` (the caller commits)."""
    view = memoryview(data)
    for number, start in enumerate(range(0, max(len(data), 1), PART_BYTES)):
        session.add(
            OriginalPart(
                version_id=version_id, part=number, data=bytes(view[start : start + PART_BYTES])
            )
        )
    session.flush()


def stored(*, session: Session, version_id: int) -> bool:
    """Whether the original of ``version_id`` is in the database."""
    found = session.scalar(
        select(func.count()).select_from(OriginalPart).where(OriginalPart.version_id == version_id)
    )
    return bool(found)


def read(*, session: Session, version_id: int) -> bytes:
    """The whole original of ``version_id`` (to parse it)."""
    parts = session.scalars(
        select(OriginalPart.data)
        .where(OriginalPart.version_id == version_id)
        .order_by(OriginalPart.part)
    ).all()
    if not parts:
        raise MissingOriginal(version_id)
    return b"".join(parts)


def stream(*, sessions: sessionmaker[Session], version_id: int) -> Iterator[bytes]:
    """The original of ``version_id`` part after part, each read in its own short
    transaction: a download holds one part in memory and no connection between parts."""
    number = 0
    while True:
        with transaction(sessions) as session:
            data = session.scalar(
                select(OriginalPart.data).where(
                    OriginalPart.version_id == version_id, OriginalPart.part == number
                )
            )
        if data is None:
            if number == 0:
                raise MissingOriginal(version_id)
            return
        yield data
        number += 1


def adopt_files(*, sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Move into the database the originals an older install kept on this host's disk
    (``DocumentVersion.stored_path``), one version per transaction; returns (moved, still
    elsewhere). Several hosts may run it at once: a version is taken by one of them only.
    Files are not deleted: once no host reports any left, ``<data_dir>/uploads`` may go."""
    with transaction(sessions) as session:
        waiting = session.execute(
            select(DocumentVersion.id, DocumentVersion.stored_path, DocumentVersion.sha256).where(
                DocumentVersion.stored_path.is_not(None)
            )
        ).all()
    moved = elsewhere = 0
    for version_id, stored_path, digest in waiting:
        path = Path(str(stored_path))
        if not path.is_file():
            elsewhere += 1
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            log.warning("original of version %s changed on disk: left there", version_id)
            elsewhere += 1
            continue
        with transaction(sessions) as session:
            # Taken first (a write): of several hosts or workers, one only goes on.
            taken = session.execute(
                update(DocumentVersion)
                .where(DocumentVersion.id == version_id, DocumentVersion.stored_path.is_not(None))
                .values(stored_path=None)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            if not stored(session=session, version_id=version_id):
                put(session=session, version_id=version_id, data=data)
        moved += 1
    if moved:
        log.info("%d original(s) moved from this host's disk into the database", moved)
    if elsewhere:
        log.warning(
            "%d original(s) are on another host's disk: start Guichet there once to move them",
            elsewhere,
        )
    return moved, elsewhere
