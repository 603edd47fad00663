"""French text analysis for the lexical index: the same pipeline for documents and queries.

Steps, in order: Unicode normalisation and lower-casing, typographic apostrophes made plain,
elided articles and pronouns dropped (``l'``, ``d'``, ``qu'``, ``lorsqu'``...), word
tokenisation, stopwords removed, Snowball French stemming (a few acronyms kept whole), then
accent folding on the stem (the stemmer needs the accents to recognise suffixes; folding
afterwards makes "operateur" typed without accents match "opérateur").
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

# The standard Snowball list only. Question words ("comment", "combien", "quand") are kept
# on purpose: FAQ titles are questions too, and the question word tells what kind of
# answer is wanted (a procedure, an amount, a date); measured, removing them hurt.
STOPWORDS: frozenset[str] = frozenset(STOPWORDS_FRENCH)

# Words kept whole instead of stemmed. The stemmer reads the final S of an acronym as a
# plural: « PACS » became « pac » while « pacser », « pacsé » became « pacs », so a
# question about getting pacsé never found the page about the PACS (« ANTS » and « ARS »
# likewise). Only acronyms of public-service French whose stem differs from themselves
# need to be here; lower-cased, as citizens type them either way.
PROTECTED = frozenset({"pacs", "ants", "ars", "cias", "ddets"})

# The version of what ``FrenchAnalyzer.analyze`` returns. The catalog stores each chunk's
# analysed terms: raise this whenever a change gives other terms for some text, and the
# stored terms are made again when an index opens (``retrieval/terms.py``).
ANALYSIS_VERSION = 3  # 3: « œ » and « æ » read as « oe » and « ae »

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# Elided forms: one-letter clitics and the "qu'" family. Matched at a word start only.
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|lorsqu|puisqu|jusqu|quoiqu|quelqu)'", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


@cache
def french_words() -> dict[str, int]:
    """How often each French word occurs, as written (lower case, accents kept), from
    pyspellchecker's French dictionary (a word-frequency list of everyday written French)."""
    from spellchecker import SpellChecker

    frequencies = SpellChecker(language="fr", distance=1).word_frequency
    return {word.replace("\u2019", "'"): int(count) for word, count in frequencies.items()}


@cache
def french_frequencies() -> dict[str, int]:
    """How often each French word occurs, accents folded (« eleve » counts « élève » and
    « élevé » together)."""
    counts: dict[str, int] = {}
    for word, count in french_words().items():
        key = fold_accents(word.lower())
        counts[key] = counts.get(key, 0) + count
    return counts


def fold_accents(text: str) -> str:
    """Remove diacritics ("élève" -> "eleve"), keeping base letters."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class FrenchAnalyzer:
    """Turns French text into index terms (stemmed, accent-folded, stopwords removed)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = STOPWORDS | {fold_accents(w) for w in STOPWORDS}
        self.term = lru_cache(maxsize=200_000)(self._term)
        # Passage units are analysed again for every question that retrieves them.
        self.terms = lru_cache(maxsize=50_000)(self._terms)

    def _term(self, word: str) -> str:
        if word in PROTECTED:
            return fold_accents(word)
        return fold_accents(self._stemmer.stemWord(word))

    def words(self, text: str) -> list[str]:
        """Lower-cased words with elisions removed, before stopwords and stemming."""
        text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
        # « sœur » as most keyboards type it: « soeur » (NFKC keeps the ligatures).
        text = text.replace("œ", "oe").replace("æ", "ae")
        text = _ELISION.sub(" ", text)
        return _WORD.findall(text.replace("_", " "))

    def analyze(self, text: str) -> list[str]:
        """Index terms of ``text``, in order, duplicates kept (BM25 counts them)."""
        stop = self._stopwords
        term = self.term
        return [term(w) for w in self.words(text) if (w not in stop and len(w) > 1) or w.isdigit()]

    def _terms(self, text: str) -> tuple[str, ...]:
        """``analyze`` remembered by text (a tuple, so no caller can change it)."""
        return tuple(self.analyze(text))
