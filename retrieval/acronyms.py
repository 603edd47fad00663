"""Acronyms a corpus defines, so that a question using one finds the pages that spell it out.

Administrative French is full of acronyms, and a page often names a thing in full where
the asker uses the short form (« Un DPO peut-il être sanctionné ? » against « quelle
responsabilité pour le délégué à la protection des données »). The documents define their
acronyms themselves, the usual way: « le pacte civil de solidarité (PACS) ». Definitions
are found by the Schwartz–Hearst rule (Schwartz and Hearst, 2003): the letters of the
acronym appear, in order, in the words just before the parenthesis, the first one opening
a word that is not a small word (« aux », « de », « l' »). When a question holds an
acronym of its corpus, the lexical side also searches for its most frequent definition.

A word of the question counts as an acronym when it is written with capitals (« DPO »),
or in lower case when it is neither a stopword nor a word of everyday French: « pas » is
also « le prélèvement à la source (PAS) », and must stay « pas ». Nothing is written by
hand and nothing is stored: each process keeps, per corpus, the definitions of each live
document version, updated for the documents a new generation changed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from retrieval.analysis import STOPWORDS, fold_accents, french_frequencies
from retrieval.catalog import Catalog

# « (PACS) », « (AU047) »: a parenthesis holding one word with at least two capitals.
_DEFINED = re.compile(r"\(([A-ZÀ-Ý][A-Za-zÀ-ÿ0-9]{1,9})\)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ELIDED = re.compile(r"^(?:[ld]|qu)['’]", re.I)
MIN_CAPITALS = 2
EXTRA_WORDS = 5  # a definition may hold this many words more than the acronym has letters


def definitions(text: str) -> Iterator[tuple[str, str]]:
    """The (acronym, what it stands for) pairs ``text`` defines, both lower-cased."""
    for match in _DEFINED.finditer(text):
        acronym = match.group(1)
        if sum(c.isupper() for c in acronym) < MIN_CAPITALS:
            continue
        words = text[: match.start()].split()
        window = words[-min(len(acronym) + EXTRA_WORDS, 2 * len(acronym)) :]
        expansion = _spelled_out(window, acronym)
        if expansion and len(expansion) > len(acronym):
            yield acronym.lower(), expansion


def _spelled_out(words: list[str], acronym: str) -> str | None:
    """The shortest end of ``words`` holding the acronym's letters in order, matched from
    the last one back, the first letter opening a word that is not a small word."""
    letters = [c for c in acronym.lower() if c.isalnum()]
    bare = [_ELIDED.sub("", w).lower().strip(" ,;:«»\"'()") for w in words]
    text = " ".join(bare)
    starts = {}  # character position of each word's start -> the word
    position = 0
    for word in bare:
        starts[position] = word
        position += len(word) + 1
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (
            text[position] != letter
            or (index == 0 and (position not in starts or starts[position] in STOPWORDS))
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    return " ".join(text[position + 1 :].split()) or None


def _is_acronym(word: str) -> bool:
    """Whether a question's word may be an acronym (see the module docstring)."""
    if sum(c.isupper() for c in word) >= MIN_CAPITALS:
        return True
    lowered = word.lower()
    return lowered not in STOPWORDS and fold_accents(lowered) not in french_frequencies()


@dataclass
class _Corpus:
    """One corpus's definitions: per live document version, and counted together."""

    generation: int = -1
    versions: dict[str, int] = field(default_factory=dict)
    found: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    table: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Acronyms:
    """Per corpus, each acronym its live documents define and its most frequent definition
    (ties go to the first in alphabetical order, so every process agrees)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._corpora: dict[str, _Corpus] = {}

    def table(self, corpus: str, generation: int, active: Mapping[str, int]) -> dict[str, str]:
        """The corpus's acronyms at ``generation``, whose live versions are ``active``."""
        with self._lock:
            state = self._corpora.setdefault(corpus, _Corpus())
        with state.lock:  # one corpus at a time: searches of the others go on
            if state.generation == generation:
                return state.table
            changed = [d for d, v in active.items() if state.versions.get(d) != v]
            gone = [d for d in state.versions if d not in active]
            for document_id in gone + changed:
                state.counts.subtract(state.found.pop(document_id, []))
                state.versions.pop(document_id, None)
            fresh: dict[str, list[tuple[str, str]]] = {}
            for document_id, version, text in self._catalog.live_texts(corpus, changed):
                if version == active[document_id]:  # else replaced meanwhile: next time
                    fresh.setdefault(document_id, []).extend(definitions(text))
            for document_id, pairs in fresh.items():
                state.found[document_id] = pairs
                state.versions[document_id] = active[document_id]
                state.counts.update(pairs)
            state.counts = +state.counts  # drops what no live document defines any more
            if changed or gone:
                ranked = sorted((-n, pair) for pair, n in state.counts.items() if n > 0)
                state.table = {}
                for _, (acronym, expansion) in ranked:
                    state.table.setdefault(acronym, expansion)
            state.generation = generation
            return state.table

    @staticmethod
    def spelled_out(query: str, table: Mapping[str, str]) -> str:
        """What the acronyms of ``query`` stand for (empty when it holds none)."""
        said = fold_accents(query.lower())
        expansions: list[str] = []
        for word in _WORD.findall(query):
            expansion = table.get(word.lower())
            if (
                expansion
                and expansion not in expansions
                and _is_acronym(word)
                and fold_accents(expansion) not in said
            ):
                expansions.append(expansion)
        return " ".join(expansions)
