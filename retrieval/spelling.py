"""Citizens' spelling brought back to the written French the documents use.

People type questions fast, on a phone, without accents or apostrophes: « jai paumé ma
carte didentité ca coute combien », « on a besoin de combien de temoins ». The lexical
side folds accents already, but « didentité » shares no term with « d'identité », and the
embedder reads « temoins » as a stranger word than « témoins ». :func:`restore` rewrites
only what is plainly a typing shortcut, word by word, and leaves everything else as typed:

- a lower-case word without accents that French writes with them, when the accented form
  is the only way to write it and in everyday use (« temoins » → « témoins », « coute » →
  « coûte »; « ne » is a word as it stands and stays; « email » is no « émail »: that word
  is rare, as rare words are left to the documents);
- an elision without its apostrophe, when the rest is a French word of five letters or
  more (« didentité » → « d'identité »; « dait » stays: « ait » is too short to tell);
- the usual texting forms (« jai », « cest », « koi », « c » before a word).

Capitalised words are names or acronyms (« Acre »): never touched. The words come from
pyspellchecker's French word-frequency list, the one ``retrieval.analysis`` uses.
"""

from __future__ import annotations

import re
from functools import cache

from retrieval.analysis import fold_accents

# Written as they are typed, without apostrophe or accent.
_SHORTHANDS = {
    "jai": "j'ai",
    "cest": "c'est",
    "quil": "qu'il",
    "quils": "qu'ils",
    "quon": "qu'on",
    "jusqua": "jusqu'à",
    "jsuis": "je suis",
    "chui": "je suis",
    "ya": "il y a",
    "koi": "quoi",
    "kel": "quel",
    "kelle": "quelle",
    "kan": "quand",
    "qd": "quand",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "cmt": "comment",
    "cb": "combien",
    "pr": "pour",
    "ds": "dans",
    "tt": "tout",
    "bcp": "beaucoup",
    "tjs": "toujours",
    "pb": "problème",
    "rdv": "rendez-vous",
}
# « c combien », « c ouvert »: « c » before a word, except « est » (« la vitamine c est… »).
_C_IS = re.compile(r"(?<![\w'’])c(?=\s+(?!est\b)[^\W\d_])")
_ELIDED = re.compile(r"^(jusqu|lorsqu|puisqu|qu|[cdjlmnst])([aeiouyhàâäéèêëîïôöùûü]\w*)$")
_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]+(?![\w'’-])")
MIN_ELIDED_WORD = 5
# The list counts its rarest words 50: an accented word counted under this is rare.
MIN_RESTORED_COUNT = 100


@cache
def _lexicon() -> tuple[frozenset[str], dict[str, str]]:
    """The words French writes, and for each unaccented spelling the accented word it
    stands for (the most frequent, when several fold to it)."""
    from spellchecker import SpellChecker

    frequencies = SpellChecker(language="fr", distance=1).word_frequency
    words: set[str] = set()
    accented: dict[str, tuple[int, str]] = {}
    for word, count in frequencies.items():
        words.add(word)
        folded = fold_accents(word)
        if folded != word and count >= MIN_RESTORED_COUNT and count > accented.get(folded, (0,))[0]:
            accented[folded] = (int(count), word)
    return frozenset(words), {k: w for k, (_, w) in accented.items() if k not in words}


def restore(text: str) -> str:
    """``text`` with its typing shortcuts written out (rules in the module docstring)."""
    words, accented = _lexicon()

    def word(match: re.Match[str]) -> str:
        typed = match.group(0)
        if typed != typed.lower() or typed in words:
            return typed
        if typed in _SHORTHANDS:
            return _SHORTHANDS[typed]
        if typed in accented:
            return accented[typed]
        elided = _ELIDED.match(typed)
        if elided:
            rest = elided.group(2)
            rest = rest if rest in words else accented.get(rest, "")
            if len(rest) >= MIN_ELIDED_WORD:
                return f"{elided.group(1)}'{rest}"
        return typed

    return _WORD.sub(word, _C_IS.sub("c'est", text))
