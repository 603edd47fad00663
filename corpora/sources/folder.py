"""A folder on the server (or a share mounted there) as a source.

Every readable file under it (hidden files and folders left out) is an item keyed by its
path relative to the folder. A file whose size and modification time are those of the
last run is unchanged without being read, as rsync and make decide; otherwise its bytes
are hashed, and only different bytes make a new version. A file missing from a complete
listing is gone; a folder that is missing or unreadable fails the run, removing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from corpora.sources.fetching import (
    READABLE_SUFFIXES,
    Failed,
    Fetched,
    Gone,
    Known,
    Limits,
    Outcome,
    SourceFailure,
    Unchanged,
    filename_for,
    sha256,
)


class FolderReader:
    """Reads the files under one folder; see the module docstring."""

    total: int | None = None

    def __init__(self, location: str, limits: Limits) -> None:
        self.root = Path(location)
        self.limits = limits

    def close(self) -> None:
        return None

    def listing(self) -> dict[str, Path]:
        """Relative POSIX path → file, for every readable file (raises when unreadable)."""
        if not self.root.is_dir():
            raise SourceFailure("folder_missing", str(self.root))
        found: dict[str, Path] = {}

        def failed(error: OSError) -> None:
            raise SourceFailure("folder_unreadable", str(error.filename or self.root))

        for folder, dirs, files in os.walk(self.root, onerror=failed, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or not name.lower().endswith(READABLE_SUFFIXES):
                    continue
                path = Path(folder) / name
                found[path.relative_to(self.root).as_posix()] = path
        return found

    def walk(self, known: Mapping[str, Known]) -> Iterator[Outcome]:
        files = self.listing()
        self.total = len(files) + len(set(known) - set(files))
        for key, path in files.items():
            yield self._read(key, path, known.get(key))
        for key in known:
            if key not in files:
                yield Gone(key)

    def _read(self, key: str, path: Path, known: Known | None) -> Outcome:
        try:
            stat = path.stat()
            validator = f"{stat.st_size}-{stat.st_mtime_ns}"
            if known is not None and known.etag == validator:
                return Unchanged(key, validator)
            if stat.st_size > self.limits.max_bytes:
                return Failed(key, "too_large", str(stat.st_size))
            data = path.read_bytes()
        except OSError as error:
            return Failed(key, "unreadable", type(error).__name__)
        digest = sha256(data)
        if known is not None and known.sha256 == digest:
            return Unchanged(key, validator)
        return Fetched(key, filename_for(key), data, digest, etag=validator)
