"""Citizens' typing shortcuts written out before their question is searched.

People type questions fast, on a phone, without accents or apostrophes: « jai paumé ma
carte didentité ca coute combien », « on a besoin de combien de temoins ». The lexical
side folds accents already, but « didentité » shares no term with « d'identité », and the
embedder reads « temoins » as a stranger word than « témoins ». :func:`written_out`
rewrites only what is plainly a typing shortcut, word by word, and leaves the rest as
typed:

- a lower-case word without accents that French writes with them, when one accented
  word is far the most frequent of those it could be (« temoins » → « témoins »,
  « coute » → « coûte ») and in everyday use; « eleve » could be « élève » or « élevé »
  and stays, as « ne » (a word as it stands) and « email » (« émail » is rare);
- an elision without its apostrophe, when the rest is a French word of five letters or
  more and the word typed is neither a form of a French word (« déchéances ») nor a
  word of the corpus (« lorient » in a corpus about Lorient): « didentité » →
  « d'identité »; « dait » stays, « ait » is too short to tell;
- the usual texting forms (« jai », « cest », « koi », « ya »; « c » only before a word
  it plainly goes with, as in « c combien », never in « catégorie c »);
- a lower-case word of eight letters or more that neither French (accents aside) nor
  the corpus knows, one letter away from a word of the corpus (« déchetterie » where the
  documents write « déchèterie »), or else from a French word with the same first
  letter, in everyday use, that dominates the others so near (« recensemen » →
  « recensement », « apartement » → « appartement »); five such words per question at
  most. Shorter words are one letter from too many others, names typed in lower case
  among them (« toulon », « cholet »).

Capitalised words are names or acronyms (« Acre »): never touched, except the first word
of the question, capitalised by the phone, which gets the texting and elision rules
(« Jai perdu… »). Web addresses are left whole. The words come from pyspellchecker's
French word-frequency list (``retrieval.analysis.french_words``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

from retrieval.analysis import fold_accents, french_words

# Written as they are typed, without apostrophe or accent. None is a French word of the
# list: a word of the list is always kept as typed.
_SHORTHANDS = {
    "jai": "j'ai",
    "jy": "j'y",
    "nai": "n'ai",
    "cest": "c'est",
    "sil": "s'il",
    "quest": "qu'est",
    "quil": "qu'il",
    "quils": "qu'ils",
    "quon": "qu'on",
    "quun": "qu'un",
    "quune": "qu'une",
    "quelquun": "quelqu'un",
    "aujourdhui": "aujourd'hui",
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
    "pr": "pour",
    "tt": "tout",
    "bcp": "beaucoup",
    "tjs": "toujours",
    "pb": "problème",
    "rdv": "rendez-vous",
}
# « c combien », « c ouvert le mardi ? »: « c » before the words it goes with in texting;
# « catégorie c », « vitamine c », « permis c » keep their letter.
_C_IS = re.compile(
    r"(?<![\w'’])c(?=\s+(?:quoi|combien|quand|o[uù]|qui|comment|quel(?:le)?s?|ouverte?s?"
    r"|ferm[ée]e?s?|gratuite?s?|payante?s?|possible|obligatoire|normal|grave|bon|pas)\b)",
    re.IGNORECASE,
)
_IL_YA = re.compile(r"\b(il)\s+ya\b", re.IGNORECASE)
_ELIDED = re.compile(r"^(jusqu|lorsqu|puisqu|qu|[cdjlmnst])([aeiouyhàâäéèêëîïôöùûü]\w*)$")
# A word: letters, after an apostrophe or not (« d'identite »), never part of a web
# address, an e-mail or a hyphenated word (« impots.gouv.fr », « est-elle »).
_WORD = re.compile(r"(?<![\w./@:-])[^\W\d_]+(?![\w'’-]|[./@:]\w)")
MIN_ELIDED_WORD = 5
# The list counts its rarest words 50: an accented word counted under this is rare.
MIN_RESTORED_COUNT = 100
# An accented word is restored when it is counted this many times more than the next
# word its letters could be (« témoins »); « élève » / « élevé » are too close to guess.
DOMINANCE = 5
# Endings a listed word takes in its plural or feminine (« déchéance » → « déchéances »).
_FORMS = ("s", "x", "e", "es")


# The letters a French word is typed with (the word list writes « oe », never « œ »).
FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûü"
# Letters of analysed terms: accents are folded.
TERM_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# A word shorter than this is not corrected against the word list: short words and
# names (« toulon », « cholet », « cocteau ») are one letter from too many others.
MIN_MISTYPED_WORD = 8
# Corrections tried per question, at most: a long junk text costs no more than this.
MAX_CORRECTIONS = 5


def one_letter_away(word: str, letters: str = FRENCH_LETTERS) -> set[str]:
    """Every spelling one letter away from ``word``: a letter left out, added or changed,
    or two neighbours swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(word)
    return edits


def letters_apart(a: str, b: str) -> int:
    """How many letters to leave out, add or change, or neighbours to swap, to write
    ``a`` as ``b`` (accents and case aside)."""
    a, b = fold_accents(a.lower()), fold_accents(b.lower())
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, start=1):
        row = [i]
        for j, y in enumerate(b, start=1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, rows[-2][j - 2] + 1)  # two neighbours swapped
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


@lru_cache(maxsize=4096)
def _one_letter_off(typed: str) -> str | None:
    """The French word one letter away from ``typed`` (« recensemen », « apartement »),
    with the same first letter, when one such word dominates the others and is in
    everyday use."""
    words = french_words()
    near = (e for e in one_letter_away(typed) if e[:1] == typed[:1] and e in words)
    ranked = sorted(((words[e], e) for e in near), reverse=True)
    if not ranked:
        return None
    count, word = ranked[0]
    rival = ranked[1][0] if len(ranked) > 1 else 0
    return word if count >= MIN_RESTORED_COUNT and count >= DOMINANCE * rival else None


@cache
def _lexicon() -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
    """The words French writes, the same without their accents, and for each unaccented
    spelling the accented word it stands for, when one dominates."""
    words = french_words()
    ranked: dict[str, list[tuple[int, str]]] = {}
    for word, count in words.items():
        folded = fold_accents(word)
        if folded != word:
            ranked.setdefault(folded, []).append((count, word))
    accented = {}
    for folded, spellings in ranked.items():
        if folded in words:
            continue  # « ne », « a », « ou »: words as they stand
        spellings.sort(reverse=True)
        count, word = spellings[0]
        rival = spellings[1][0] if len(spellings) > 1 else 0
        if count >= MIN_RESTORED_COUNT and count >= DOMINANCE * rival:
            accented[folded] = word
    return frozenset(words), frozenset(words) | frozenset(ranked), accented


def written_out(
    text: str,
    *,
    known: Callable[[str], bool] = lambda word: False,
    corpus_spelling: Callable[[str], str | None] = lambda word: None,
) -> str:
    """``text`` with its typing shortcuts written out (rules in the module docstring).
    ``known`` tells the words of the corpus, which are never rewritten;
    ``corpus_spelling`` gives the corpus's own spelling of a word it does not hold, one
    letter away (« déchetterie » where the documents write « déchèterie »)."""
    words, unaccented, accented = _lexicon()
    first = _WORD.search(text)
    corrections = MAX_CORRECTIONS

    def is_form(word: str) -> bool:
        word = word.replace("œ", "oe").replace("æ", "ae")  # « œuvres » is « oeuvres »
        return word in words or any(word.endswith(e) and word[: -len(e)] in words for e in _FORMS)

    def corrected(typed: str) -> str | None:
        nonlocal corrections
        if typed in unaccented or corrections <= 0:
            return None  # « perime », « greves »: accents the accent rule could not guess
        corrections -= 1
        return corpus_spelling(typed) or _one_letter_off(typed)

    def rewrite(typed: str, *, lower: bool) -> str:
        if is_form(typed):
            return typed
        if typed in _SHORTHANDS:
            return _SHORTHANDS[typed]
        if lower and typed in accented:
            return accented[typed]
        if known(typed):
            return typed
        elided = _ELIDED.match(typed)
        if elided:
            rest = elided.group(2)
            rest = rest if rest in words else accented.get(rest, "")
            if len(rest) >= MIN_ELIDED_WORD:
                return f"{elided.group(1)}'{rest}"
        if lower and len(typed) >= MIN_MISTYPED_WORD:
            return corrected(typed) or typed
        return typed

    def word(match: re.Match[str]) -> str:
        typed = match.group(0)
        if typed == typed.lower():
            return rewrite(typed, lower=True)
        if first and match.start() == first.start() and typed[1:] == typed[1:].lower():
            # The phone's capital: « Jai perdu… », « Cest ouvert ? »
            rewritten = rewrite(typed.lower(), lower=False)
            return rewritten[0].upper() + rewritten[1:]
        return typed

    text = _IL_YA.sub(r"\1 y a", _C_IS.sub(lambda m: m.group(0) + "'est", text))
    return _WORD.sub(word, text)
