"""Follow-up questions made to stand alone: « et pour un passeport ? » after a question on
the identity card is a question on the passport's fee.

The model is asked first (it knows the conversation); its rewrite is used only when it
keeps what the follow-up asks and reads as a question. Otherwise — and always when the
engine cannot be reached — a rule writes it from the previous question:

- a follow-up whose subject word is already in the previous question replaces that
  word's phrase (« la salle polyvalente » → « la salle du Lavoir »);
- a follow-up with a new subject (« et pour un passeport ? ») replaces the previous
  question's subject: the words it shares with the titles of the documents that answered
  it, when they follow an article (« J'ai perdu ma carte d'identité, combien… » → « J'ai
  perdu un passeport, combien… »). When no such phrase is found, the follow-up is put
  before the previous question, twice, so that its subject weighs more than the one it
  would replace;
- a follow-up without a subject (« et c'est combien ? ») asks its question of the
  previous question's subject.

An answer to a follow-up must name something the follow-up brings (``names_subject``): the
rewrite can still find the previous question's page, and an answer on the identity card
to « et pour un passeport ? » is wrong however well it is cited. Such an answer is
doubtful: held for a person, or declined where nobody reviews.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from review.extractive import specificity

# How a follow-up opens: a conjunction, « pour », an article.
_OPENING = re.compile(
    r"^\s*(?:(?:et|mais|ou|alors|puis|aussi|sinon)\b[\s,]*)?"
    r"(?:(?:pour|avec|sur|dans|concernant|quant à)\s+)?"
    r"(?:(?:l'|(?:les|le|la|une|un|des|du|de la|de l|mon|ma|mes|son|sa|ses|notre|votre|nos|vos)"
    r"(?:\s+|'))?)",
    re.I,
)
# What opens a noun phrase: an article, which the follow-up's own article replaces
# (« ma carte » → « un passeport »), or a « de » that stays (« délai d'un permis » →
# « délai d'une déclaration »). An elided article (« l'enfant », « d'identité ») is part of
# its word.
_ARTICLES = frozenset(
    """le la les un une des au aux mon ma mes ton ta tes son sa ses notre votre nos vos
    leur leurs ce cet cette ces""".split()
)
_DETERMINERS = _ARTICLES | {"de", "du", "d'un", "d'une", "d’un", "d’une"}
_ELIDED = re.compile(r"^[ldLD]['’]")
_ARTICLE = re.compile(
    r"^(?:(?:et|mais|ou|alors|puis|aussi|sinon)\b[\s,]*)?"
    r"(?:(?:pour|avec|sur|dans|concernant|quant à)\s+)?",
    re.I,
)
_STARTS_LIKE_FOLLOWUP = re.compile(
    r"^\s*(et|mais|ou|alors|puis|aussi|idem|pareil|même chose|m[eê]me question)\b", re.I
)
_NOT_PHRASE = re.compile(r"[,;:?!.]")
_MASKED = re.compile(r"\[[^\]]*\]")  # « [nom masqué] », « [courriel masqué] »...
_LETTERS = re.compile(r"[^\W\d_]+")
# A follow-up's word is its subject when everyday French uses it little: the middle of
# the specificity scale, 0.2 to 1 (« passeport » 0.95, « poisson » 0.67 above; « sinon »
# 0.55, « temps » 0.2 below).
SUBJECT_SPECIFICITY = 0.6
MAX_STANDALONE_WORDS = 60


class FollowUps:
    """Rewrites follow-ups; ``analyze`` is the index's analyser (terms compare as search
    does), ``content`` keeps a question's content terms (no interrogatives)."""

    def __init__(self, *, analyze: Callable[[str], list[str]], content: Callable[[str], set[str]]):
        self._analyze = analyze
        self._content = content

    def is_followup(self, question: str) -> bool:
        """Does the question lean on the one before (« et pour… », or hardly any subject)?"""
        return bool(_STARTS_LIKE_FOLLOWUP.match(question)) or len(self._content(question)) <= 1

    def names_subject(
        self,
        *,
        question: str,
        previous: str | None,
        answer: str,
        known: Callable[[str], bool] = lambda term: False,
    ) -> bool:
        """Does ``answer`` name something the follow-up brings that the previous question
        did not (« passeport » in « et pour un passeport ? » after a question on the
        identity card)? One that does not answers the previous question, not this one.

        What the follow-up brings is its words that say something specific
        (``review.extractive.specificity``, ``known`` telling the terms the corpus holds):
        not « sinon » or « temps », nor a typo, a figure or masked personal data. True for
        a question standing alone and a follow-up that brings nothing of the kind
        (« et c'est combien ? »)."""
        if not previous or not self.is_followup(question):
            return True
        before, brought = self._content(previous), set[str]()
        for word in _LETTERS.findall(_MASKED.sub(" ", question)):
            terms = self._content(word) - before
            in_corpus = any(known(term) for term in terms)
            if terms and specificity(word, in_corpus=in_corpus) >= SUBJECT_SPECIFICITY:
                brought |= terms
        return not brought or bool(brought & self._content(answer))

    def usable(self, rewrite: str, *, question: str, previous: str) -> bool:
        """Is the model's rewrite a question that keeps what the follow-up asks and takes
        from the previous question what it leaves unsaid?"""
        text = rewrite.strip()
        if not text or "\n" in text or "[" in text or ":" in text[:30]:
            return False  # an answer, or a label (« Dernière question : … »)
        if len(text.split()) > MAX_STANDALONE_WORDS or text.strip(" ?") == previous.strip(" ?"):
            return False
        asked, written = self._content(question), self._content(text)
        carried = (self._content(previous) - asked) & written
        return asked <= written and bool(carried)

    def by_rule(self, question: str, previous: str, *, titles: Sequence[str] = ()) -> str:
        """The follow-up written from the previous question (rules in the module docstring);
        ``titles`` are those of the documents that answered it."""
        subject = _OPENING.sub("", question).strip(" ?!.").strip()
        subject_terms = self._content(subject)
        if not subject_terms:
            return f"{question.strip()} {previous.strip()}"
        words = list(re.finditer(r"[\w'’-]+", previous))
        for position, word in enumerate(words):
            if not set(self._analyze(word.group(0))) & subject_terms:
                continue
            end = word.end()
            for following in words[position + 1 : position + 4]:
                between = previous[end : following.start()]
                if _NOT_PHRASE.search(between) or not self._analyze(following.group(0)):
                    break
                end = following.end()
            return previous[: word.start()] + subject + previous[end:]
        replaced = self._replace_titled(previous, words, titles, question=question)
        return replaced or f"{subject} — {subject} — {previous.strip()}"

    def _replace_titled(
        self, previous: str, words: list[re.Match[str]], titles: Sequence[str], *, question: str
    ) -> str | None:
        """``previous`` with its longest phrase of title words that follows an article
        replaced by the follow-up's own phrase; None when it has no such phrase."""
        titled = set().union(*(self._content(t) for t in titles)) if titles else set()
        if not titled:
            return None
        marked = [bool(self._content(w.group(0)) & titled) for w in words]
        best: tuple[int, int] | None = None  # first and last word of the phrase
        for first, word in enumerate(words):
            opens = _ELIDED.match(word.group(0)) or (
                first > 0 and words[first - 1].group(0).lower() in _DETERMINERS
            )
            if not marked[first] or not opens:
                continue
            last = first
            for following in range(first + 1, len(words)):
                between = previous[words[following - 1].end() : words[following].start()]
                if _NOT_PHRASE.search(between):
                    break
                if marked[following]:
                    last = following
                elif self._content(words[following].group(0)):
                    break  # a word of another subject ends the phrase; « de », « d'un » link
            size = sum(marked[first : last + 1])
            if best is None or size > sum(marked[best[0] : best[1] + 1]):
                best = (first, last)
        if best is None:
            return None
        first, last = best
        start, phrase = words[first].start(), _ARTICLE.sub("", question).strip(" ?!.").strip()
        before = words[first - 1] if first > 0 else None
        has_article = bool(_ELIDED.match(phrase)) or phrase.split()[0].lower() in _ARTICLES
        if before and before.group(0).lower() in _ARTICLES:
            start = before.start()  # « ma carte » → « un passeport », « ma passeport »
            if not has_article:
                phrase = f"{before.group(0)} {phrase}"
        elif has_article:  # after « de »: « d'un permis » → « d'une déclaration »
            phrase = _OPENING.sub("", phrase)
        return previous[:start] + phrase + previous[words[last].end() :]
