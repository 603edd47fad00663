"""Follow-up questions made to stand alone: « et pour un passeport ? » after a question on
the identity card is a question on the passport's fee.

The model is asked first (it knows the conversation); its rewrite is used only when it
keeps what the follow-up asks and reads as a question. Otherwise — and always when the
engine cannot be reached — a rule writes it from the previous question:

- a follow-up whose subject word is already in the previous question replaces that
  word's phrase (« la salle polyvalente » → « la salle du Lavoir »);
- a follow-up that is a new subject alone, opened by an article, whose words the corpus's
  headings name (« et pour un passeport ? ») replaces the previous question's subject:
  its first phrase of words from the titles of the documents that answered it, opened by
  an article (« J'ai perdu ma carte d'identité, combien… » → « J'ai perdu un passeport,
  combien… »): one procedure asked about instead of another. Otherwise (« et pour mon
  fils ? », « et en ligne ? », « et la cantine, c'est combien ? », a previous question
  with no such phrase) the follow-up is put before the previous question, twice, so that
  its subject weighs more than the one it would replace;
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

# What opens a follow-up before its subject: a conjunction, a preposition.
_LEAD_IN = re.compile(
    r"^\s*(?:(?:et|mais|ou|alors|puis|aussi|sinon)\b[\s,]*)?"
    r"(?:(?:pour|avec|sur|dans|concernant|quant à)\s+)?",
    re.I,
)
# How a follow-up opens: a conjunction, « pour », an article.
_OPENING = re.compile(
    _LEAD_IN.pattern + r"(?:(?:l['’]|(?:les|le|la|une|un|des|du|de la|de l|mon|ma|mes|son|sa|ses"
    r"|notre|votre|nos|vos)(?:\s+|'))?)",
    re.I,
)
# The articles a new subject opens with (« un passeport », « l'acte de naissance »), and
# the determiners that open the previous question's subject and that it replaces (« ma
# carte d'identité »); an elided « l' » is part of its word. Not « au », « du », « de »:
# their « à » and « de » belong to the frame (« le délai d'un permis »).
_NEW_SUBJECT = re.compile(r"^(?:(?:le|la|les|un|une|des)\s+|l['’]\s*)\w", re.I)
_ARTICLES = frozenset(
    """le la les un une des mon ma mes ton ta tes son sa ses notre votre nos vos
    leur leurs ce cet cette ces""".split()
)
_ELIDED_ARTICLE = re.compile(r"^[lL]['’]")
# The words that may link a new subject's words (« l'acte de naissance »).
_LINKS = frozenset("le la les l' l’ un une des de du d' d’ à au aux en et".split())
_PHRASE_WORDS = re.compile(r"[\w-]+['’]?")
# « de » and « à » before « le », « les » are written as one word.
_CONTRACTIONS = {("de", "le"): "du", ("de", "les"): "des", ("à", "le"): "au", ("à", "les"): "aux"}
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

    def by_rule(
        self,
        question: str,
        previous: str,
        *,
        titles: Sequence[str] = (),
        headed: Callable[[str], bool] = lambda term: False,
    ) -> str:
        """The follow-up written from the previous question (rules in the module docstring);
        ``titles`` are those of the documents that answered it, ``headed`` tells the terms
        some heading of the corpus holds."""
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
        phrase = _LEAD_IN.sub("", question).strip().rstrip(" ?!.").strip()
        if self._names_a_subject(phrase, headed):
            span = self._titled_span(previous, words, titles)
            if span is not None:
                return _joined(previous[: span[0]], phrase, previous[span[1] :])
        return f"{subject} — {subject} — {previous.strip()}"

    def _names_a_subject(self, phrase: str, headed: Callable[[str], bool]) -> bool:
        """Is ``phrase`` (the follow-up after its conjunction and preposition) a subject
        and nothing else: opened by an article, each word a link (« de », « du ») or
        named by some heading (« l'acte de naissance »; not « mon fils », « en ligne »,
        « le passeport il coûte combien », « la cantine, c'est combien »)?"""
        if not _NEW_SUBJECT.match(phrase) or _NOT_PHRASE.search(phrase):
            return False
        for word in _PHRASE_WORDS.findall(phrase):
            terms = self._content(word)
            named = bool(terms) and all(map(headed, terms))
            linking = not terms and word.lower() in _LINKS
            if not (named or linking):
                return False
        return True

    def _titled_span(
        self, previous: str, words: list[re.Match[str]], titles: Sequence[str]
    ) -> tuple[int, int] | None:
        """Where the previous question names what its answer's documents are titled on:
        its first phrase of title words, with the article opening it (« ma carte
        d'identité » in « J'ai perdu ma carte d'identité, comment la refaire en ligne ? »:
        « la refaire en ligne » holds more title words, but « la » is a pronoun there);
        None when no title word opens a phrase."""
        titled = set().union(*(self._content(t) for t in titles))
        marked = [bool(self._content(w.group(0)) & titled) for w in words]
        for first, word in enumerate(words):
            before = words[first - 1] if first else None
            if before is not None and before.group(0).lower() in _ARTICLES:
                start = before.start()
            elif _ELIDED_ARTICLE.match(word.group(0)):
                start = word.start()
            else:
                continue
            if not marked[first]:
                continue
            last = first
            for following in range(first + 1, len(words)):
                between = previous[words[following - 1].end() : words[following].start()]
                if _NOT_PHRASE.search(between):
                    break
                if marked[following]:
                    last = following
                elif self._content(words[following].group(0)):
                    break  # a word of something else ends it; « de », « du » link
            return start, words[last].end()
        return None


def _joined(before: str, phrase: str, after: str) -> str:
    """``phrase`` put between ``before`` and ``after``: « de » + « le passeport » is
    « du passeport »; at the start of the question it takes a capital."""
    if not before:
        return phrase[:1].upper() + phrase[1:] + after
    head, _, last = before.rstrip().rpartition(" ")
    article, _, rest = phrase.partition(" ")
    contracted = _CONTRACTIONS.get((last.lower(), article.lower()))
    if contracted and rest and before.endswith(" "):
        return f"{head} {contracted} {rest}{after}" if head else f"{contracted} {rest}{after}"
    return before + phrase + after
