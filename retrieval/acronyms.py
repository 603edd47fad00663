"""Acronyms a corpus defines, so that a question using one finds the pages that spell it out.

Administrative French is full of acronyms, and a page often names a thing in full where
the asker uses the short form (« Un DPO peut-il être sanctionné ? » against « quelle
responsabilité pour le délégué à la protection des données »). The documents define their
acronyms themselves, the usual way: « le pacte civil de solidarité (PACS) ». Definitions
are found by the Schwartz–Hearst rule (Schwartz and Hearst, 2003): the letters of the
acronym appear, in order, in the words just before the parenthesis, the first one opening
a word. When a question holds an acronym of its corpus, the lexical side also searches for
its most frequent definition. Nothing is written by hand and nothing is stored: the table
follows the live documents (each document version is read once).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping

from retrieval.catalog import Catalog

# « (PACS) », « (AU047) »: a parenthesis holding one word with at least two capitals.
_DEFINED = re.compile(r"\(([A-ZÀ-Ý][A-Za-zÀ-ÿ0-9]{1,9})\)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MIN_CAPITALS = 2
EXTRA_WORDS = 5  # a definition may hold this many words more than the acronym has letters


def definitions(text: str) -> Iterator[tuple[str, str]]:
    """The (acronym, what it stands for) pairs ``text`` defines, acronym lower-cased."""
    for match in _DEFINED.finditer(text):
        acronym = match.group(1)
        if sum(c.isupper() for c in acronym) < MIN_CAPITALS:
            continue
        words = text[: match.start()].split()
        window = words[-min(len(acronym) + EXTRA_WORDS, 2 * len(acronym)) :]
        expansion = _spelled_out(" ".join(window), acronym)
        if expansion and len(expansion) > len(acronym):
            yield acronym.lower(), expansion


def _spelled_out(before: str, acronym: str) -> str | None:
    """The shortest end of ``before`` holding the acronym's letters in order, matched from
    the last one back, the first letter at the start of a word."""
    letters = [c for c in acronym.lower() if c.isalnum()]
    text = before.lower()
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (
            text[position] != letter
            or (index == 0 and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = before.rfind(" ", 0, position + 2) + 1
    return before[start:].strip(" ,;:«»\"'") or None


class Acronyms:
    """Per corpus, each acronym its live documents define and its most frequent definition."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._documents: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
        self._tables: dict[str, tuple[int, dict[str, str]]] = {}

    def table(self, corpus: str, generation: int, active: Mapping[str, int]) -> dict[str, str]:
        """The corpus's acronyms at ``generation``, whose live versions are ``active``."""
        with self._lock:
            cached = self._tables.get(corpus)
            if cached is not None and cached[0] == generation:
                return cached[1]
            live = {(corpus, document_id, version) for document_id, version in active.items()}
            missing = sorted(key[1] for key in live if key not in self._documents)
            found: dict[tuple[str, str, int], list[tuple[str, str]]] = {}
            for document_id, version, text in self._catalog.live_texts(corpus, missing):
                found.setdefault((corpus, document_id, version), []).extend(definitions(text))
            for key in [k for k in self._documents if k[0] == corpus and k not in live]:
                del self._documents[key]
            # A document replaced since ``active`` was read is counted, not kept.
            self._documents.update((k, v) for k, v in found.items() if k in live)
            counts: Counter[tuple[str, str]] = Counter()
            for key in live | found.keys():
                counts.update(self._documents.get(key) or found.get(key) or [])
            table: dict[str, str] = {}
            for (acronym, expansion), _ in counts.most_common():
                table.setdefault(acronym, expansion)  # the most frequent definition
            self._tables[corpus] = (generation, table)
            return table

    @staticmethod
    def spelled_out(query: str, table: Mapping[str, str]) -> str:
        """What the acronyms of ``query`` stand for (empty when it holds none)."""
        said = query.lower()
        found = (table.get(w.lower()) for w in _WORD.findall(query))
        return " ".join(dict.fromkeys(e for e in found if e and e.lower() not in said))
