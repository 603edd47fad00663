"""Count what personal-data masking replaces in ordinary text: the demo corpora, and the
questions (with their reference answers) and documents of the shared evaluation sets.
None of that text is about a person: a NIR, IBAN, SIREN/SIRET or tax number counted here
is an ordinary number masked by mistake (e-mail addresses and phone numbers are those of
the services described, real in shape).

    python scripts/measure_masking.py [--compare OLD_PRIVACY_PY] [--shared ../shared/eval]

``--compare`` loads another version of server/answers/privacy.py (for instance the
regex-only one of an older commit, ``git show REV:server/privacy.py > old.py``) and prints
its counts beside the current ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.answers.privacy import mask_personal_data  # noqa: E402


def texts(shared: Path) -> Iterator[tuple[str, str]]:
    """(source, line) for every line of the demo corpora and every question and answer."""
    for path in sorted((ROOT / "corpora" / "demo").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield "corpora/demo", line
    for questions in sorted(shared.glob("*/questions.jsonl")):
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                yield f"{questions.parent.name}/questions", record.get("question") or ""
                yield f"{questions.parent.name}/questions", record.get("answer") or ""
    for document in sorted(shared.glob("*/documents/*")):
        if document.is_file() and document.suffix in (".md", ".txt", ".html"):
            for line in document.read_text(encoding="utf-8", errors="replace").splitlines():
                yield f"{document.parent.parent.name}/documents", line


def count(mask: Callable[[str], object], shared: Path) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for source, text in texts(shared):
        counter = found.setdefault(source, Counter())
        counter["texts"] += 1
        for kind in mask(text).kinds:  # type: ignore[attr-defined]
            counter[kind] += 1
    return found


def load(path: Path) -> Callable[[str], object]:
    spec = importlib.util.spec_from_file_location("compared_privacy", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module.mask_personal_data  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", type=Path, help="another privacy.py to count beside")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    current = count(mask_personal_data, args.shared)
    compared = count(load(args.compare), args.shared) if args.compare else None
    for source, counter in current.items():
        kinds = sorted(set(counter) - {"texts"} | set((compared or {}).get(source, {})) - {"texts"})
        line = f"{source:>26}: {counter['texts']:>6} lines"
        for kind in kinds:
            before = f"{compared[source][kind]} → " if compared else ""
            line += f", {kind} {before}{counter[kind]}"
        print(line)


if __name__ == "__main__":
    main()
