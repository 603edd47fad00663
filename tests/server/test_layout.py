"""server/ stays readable: no module over 400 lines."""

from __future__ import annotations

from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"
LIMIT = 400
# Being rewritten on another branch (the answer pipeline); once it is split, remove it from
# here: the test fails as soon as it fits, so the exception cannot outlive its reason.
BEING_REWRITTEN: set[str] = set()


def test_no_module_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(SERVER)): len(path.read_text(encoding="utf-8").splitlines())
        for path in SERVER.rglob("*.py")
        if "migrations" not in path.parts
    }
    too_long = {name: n for name, n in sizes.items() if n > LIMIT and name not in BEING_REWRITTEN}
    assert not too_long, too_long
    fitting = {name for name in BEING_REWRITTEN if sizes.get(name, 0) <= LIMIT}
    assert not fitting, f"{fitting} now fit: remove them from BEING_REWRITTEN"
