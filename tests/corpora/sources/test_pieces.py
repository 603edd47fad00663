"""The small rules of sources, without a server: intervals, locations, file names, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.repository import CorpusError
from corpora.sources.fetching import SourceFailure, filename_for
from corpora.sources.models import SourceKind
from corpora.sources.repository import checked_location, parse_every
from corpora.sources.secrets import SecretBox


def test_intervals_are_read_as_people_write_them() -> None:
    assert parse_every("30m") == parse_every("30 min") == parse_every("30") == 1800
    assert parse_every("6h") == 21600 and parse_every("1j") == parse_every("1d") == 86400
    for wrong in ("5s", "", "tous les jours", "-1h"):
        with pytest.raises(CorpusError) as refused:
            parse_every(wrong)
        assert refused.value.code == "invalid_interval"


def test_locations_are_checked_for_their_kind(tmp_path: Path) -> None:
    assert checked_location(SourceKind.website, " https://a.fr/x#top ", folder_roots=[]) == (
        "https://a.fr/x"
    )
    for wrong in ("ftp://a.fr/", "a.fr", "https://moi:secret@a.fr/"):
        with pytest.raises(CorpusError):
            checked_location(SourceKind.webdav, wrong, folder_roots=[])
    inside = tmp_path / "partage" / "svt"
    inside.mkdir(parents=True)
    allowed = [tmp_path / "partage"]
    assert checked_location(SourceKind.folder, str(inside), folder_roots=allowed) == str(inside)
    for wrong in ("/etc", str(inside / ".." / ".." / "..")):
        with pytest.raises(CorpusError) as refused:
            checked_location(SourceKind.folder, wrong, folder_roots=allowed)
        assert refused.value.code == "folder_not_allowed"
    # From the shell (no roots given), any absolute folder.
    assert checked_location(SourceKind.folder, "/srv", folder_roots=None) == "/srv"


def test_file_names_keep_the_path_readable() -> None:
    assert filename_for("/demarches/passeport.html", suffix=".html") == "demarches › passeport.html"
    assert filename_for("/", suffix=".html") == "index.html"
    assert filename_for("/aide/", suffix=".html") == "aide.html"
    assert filename_for("/fiche.php", suffix=".html") == "fiche.html"
    assert filename_for("cours/chapitre 1/lecon.pdf") == "cours › chapitre 1 › lecon.pdf"
    assert len(filename_for("/" + "x" * 400 + ".html", suffix=".html")) <= 180


def test_passwords_are_sealed_and_only_the_same_key_opens_them() -> None:
    box = SecretBox("instance key")
    sealed = box.seal("s3cret!")
    assert "s3cret" not in sealed and box.open(sealed) == "s3cret!"
    assert box.seal("s3cret!") != sealed, "each sealing is fresh"
    with pytest.raises(SourceFailure) as refused:
        SecretBox("another key").open(sealed)
    assert refused.value.code == "credentials_unreadable"
