"""The README and the translation catalogs keep up with the code."""

from __future__ import annotations

import re

from server.i18n import catalog
from server.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(GUICHET_[A-Z0-9_]+)`", README))
    expected = {f"GUICHET_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_readme_gives_the_two_commands_and_ci_calls_tests() -> None:
    assert "make demo" in README and "make test" in README
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_catalogs_have_the_same_keys() -> None:
    assert set(catalog("fr")) == set(catalog("en"))
    assert all(value.strip() for value in catalog("en").values())
