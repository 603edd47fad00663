"""Follow-up questions made to stand alone: « et pour un passeport ? » after a question on
the identity card is a question on the passport's fee.

The model is asked first (it knows the conversation); its rewrite is used only when it
keeps what the follow-up asks and reads as a question. Otherwise — and always when the
engine cannot be reached — a rule writes it from the previous question:

- a follow-up whose subject word is already in the previous question replaces that
  word's phrase (« la salle polyvalente » → « la salle du Lavoir »);
- a follow-up with a new subject (« et pour un passeport ? ») is put before the previous
  question, twice, so that its subject weighs more than the one it replaces;
- a follow-up without a subject (« et c'est combien ? ») asks its question of the
  previous question's subject.

An answer to a follow-up must name something the follow-up brings (``names_subject``): the
rewrite can still find the previous question's page, and an answer on the identity card
to « et pour un passeport ? » is wrong however well it is cited. Such an answer is
doubtful: held for a person, or declined where nobody reviews.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from review.extractive import specificity

# How a follow-up opens: a conjunction, « pour », an article.
_OPENING = re.compile(
    r"^\s*(?:(?:et|mais|ou|alors|puis|aussi|sinon)\b[\s,]*)?"
    r"(?:(?:pour|avec|sur|dans|concernant|quant à)\s+)?"
    r"(?:(?:l'|(?:les|le|la|une|un|des|du|de la|de l|mon|ma|mes|son|sa|ses|notre|votre|nos|vos)"
    r"(?:\s+|'))?)",
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

    def by_rule(self, question: str, previous: str) -> str:
        """The follow-up written from the previous question (rules in the module docstring)."""
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
        return f"{subject} — {subject} — {previous.strip()}"
