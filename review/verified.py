"""Verified answers: approved once by a person, served again for close paraphrases.

Verified questions are indexed in the app's search index under a corpus of their own
(``verified--<corpus>``), so that paraphrases are found by the same hybrid search as
passages. Each candidate is then scored against the asker's question by the
:class:`MatchRule` of the embedder: a mix of the dense similarity of the two questions
and of the overlap of their content words and question words, with a threshold, all
calibrated by ``scripts/calibrate_verified.py`` (the rule is in docs/answers.md). An
embedder without a calibrated rule gets :data:`STRICT`. The SQL row stays the truth: an
entry left in the search index after a withdrawal is ignored.

A verified answer is withdrawn as soon as a document it cites gets a new version (its
text was checked against the old one) or is deleted: server/documents/lifecycle.py hooks
:func:`withdraw_for_document` into every path that changes a document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.people import people
from corpora.models import Corpus
from database import utcnow
from retrieval.embedding import E5_NAME, TextEmbedder
from retrieval.types import Chunk, Passage
from review.grounding import content_stems, fold
from review.models import Answer, AnswerStatus, ReviewItem, VerifiedAnswer, VerifiedSource

log = logging.getLogger(__name__)

CANDIDATES = 5
# Question words are stopwords for retrieval but carry the intent: « qui peut consulter
# le FNAEG ? » and « le FNAEG, c'est quoi ? » share every content word yet differ.
_INTENTS = {
    "quoi": "what",
    "qu": "what",
    "que": "what",
    "qui": "who",
    "combien": "how_much",
    "quand": "when",
    "comment": "how",
    "pourquoi": "why",
    "quel": "which",
    "quels": "which",
    "quelle": "which",
    "quelles": "which",
    "peut": "can",
    "peuvent": "can",
    "puis": "can",
    "doit": "must",
    "doivent": "must",
    "faut": "must",
}
# What the question asks, as opposed to what it may or must do.
_ASKS = {"what", "who", "how_much", "when", "where", "how", "why", "which"}
_WORD = re.compile(r"[a-z0-9]+")
# Words too small for the scores that turn a question into another: a negation, « avec »
# or « sans », « moins » or « plus », « avant » or « après ». Two questions that differ
# in them, or in a figure, never share a verified answer, whatever their scores: e5 puts
# « … de moins de 15 ans ? » and « … de plus de 15 ans ? » at 0.99 (docs/answers.md).
_NEGATIONS = frozenset({"ne", "n", "pas", "jamais", "aucun", "aucune", "non", "rien"})
_QUALIFIERS = frozenset({"sans", "avec", "moins", "plus", "avant", "apres", "sauf", "hors"})
_YES_OR_NO = re.compile(r"\bou (?:pas|non)\b")
_NUMBER = re.compile(r"\d+(?:[  .,]\d+)*")


@dataclass(frozen=True)
class MatchRule:
    """How a verified question is scored against the asker's, and the score it needs.

    ``symmetric``: both questions are embedded as queries, e5's mode for paraphrases
    (the index holds verified questions as passages, e5's mode for answers).
    ``same_intents``: questions asking different things (« combien » and « quand ») never
    match. ``margin``: the best candidate must lead the second by this much, since two
    verified questions close to the asker's mean that it could be either.
    """

    dense_weight: float
    threshold: float
    symmetric: bool = True
    same_intents: bool = True
    margin: float = 0.0

    def score(self, *, question: str, candidate: str, dense: float) -> float:
        """The match score of a candidate question, ``dense`` being their cosine."""
        if _qualifiers(question) != _qualifiers(candidate):
            return 0.0
        if self.same_intents and not intents_agree(question, candidate):
            return 0.0
        lexical = lexical_similarity(question, candidate)
        return self.dense_weight * dense + (1 - self.dense_weight) * lexical


# multilingual-e5-small, chosen by the rule of docs/answers.md with
# `.venv/bin/python scripts/calibrate_verified.py` (2 December, after a review added
# longer near misses and the veto on figures and small words): cnil-faq precision 0.923
# for recall 0.105 (as the passage-mode cosine weighted 0.7 at 0.94 before it, whose
# highest wrong pair was 0.927); no wrong serve among the demo's different questions
# about one page and its near misses, the highest at 0.935; 2 of its 22 rewordings
# served. cnil-faq's precision stops the threshold: its paraphrase groups are loose, and
# different questions about one subject (« FNAEG : puis-je refuser d'y être inscrit ? »
# and « … : combien de temps y est-on inscrit ? ») score as high as its best paraphrases.
RULES = {
    E5_NAME: MatchRule(
        dense_weight=0.5, threshold=0.96, symmetric=True, same_intents=True, margin=0.05
    ),
}
# Other embedders (their cosines have scales nobody calibrated): the same content words
# and question words, nothing less.
STRICT = MatchRule(dense_weight=0.0, threshold=1.0, symmetric=False)


def rule_for(embedder_name: str) -> MatchRule:
    return RULES.get(embedder_name, STRICT)


class Searchable(Protocol):
    """What verified answers need from ``retrieval.index.SearchIndex``."""

    def replace_document(
        self, *, corpus: str, document_id: str, version: int, chunks: list[Chunk]
    ) -> None: ...

    def delete_document(self, *, corpus: str, document_id: str) -> None: ...

    def search(self, *, corpus: str, query: str, k: int = 5) -> list[Passage]: ...

    @property
    def embedder(self) -> TextEmbedder: ...


def index_name(corpus: str) -> str:
    """The search-index corpus holding the verified questions of ``corpus``."""
    return f"verified--{corpus}"


def _intents(question: str) -> set[str]:
    found = {_INTENTS[w] for w in _WORD.findall(fold(question)) if w in _INTENTS}
    # « où » only with its accent: folded, it is « ou » (or), as in « la nuit ou pas ».
    if re.search(r"\bo[ùÙ]\b", question, re.IGNORECASE):
        found.add("where")
    return found


@lru_cache(maxsize=4096)
def _qualifiers(question: str) -> frozenset[str]:
    """The figures and the small words that change what a question asks."""
    figures = {re.sub(r"\D", "", n) for n in _NUMBER.findall(question)}
    # « … ou pas ? », « … ou non ? » ask yes or no: no negation there.
    asked = _YES_OR_NO.sub(" ", fold(question.replace("'", " ")))
    words = set(_WORD.findall(asked))
    negated = {"#not"} if words & _NEGATIONS else set()
    return frozenset(figures | (words & _QUALIFIERS) | negated)


@lru_cache(maxsize=4096)
def _terms(question: str) -> frozenset[str]:
    return frozenset(content_stems(question)) | {"#" + i for i in _intents(question)}


def lexical_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two questions' content stems and intents (0 to 1)."""
    left, right = _terms(a), _terms(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def intents_agree(a: str, b: str) -> bool:
    """False when both questions say what they ask (« combien », « quand »...) and share
    none of it; a question without a question word agrees with any."""
    left, right = _asks(a), _asks(b)
    return not left or not right or bool(left & right)


def _asks(question: str) -> set[str]:
    return _intents(question) & _ASKS


def dense_similarity(
    *,
    rule: MatchRule,
    embedder: TextEmbedder,
    question: str,
    candidate: str,
    searched: float | None,
) -> float:
    """Cosine of the two questions in the rule's mode; ``searched`` is the search's own
    (the candidate as a passage), used when the rule is not symmetric."""
    if not rule.symmetric:
        return searched or 0.0
    return float(embedder.embed_query_array(question) @ embedder.embed_query_array(candidate))


def score_candidates(
    *, rule: MatchRule, embedder: TextEmbedder, question: str, candidates: Sequence[Passage]
) -> list[tuple[float, int]]:
    """The (score, verified id) of the candidates found by the search, best first."""
    scored = [
        (
            rule.score(
                question=question,
                candidate=passage.chunk.text,
                dense=dense_similarity(
                    rule=rule,
                    embedder=embedder,
                    question=question,
                    candidate=passage.chunk.text,
                    searched=passage.dense_score,
                ),
            ),
            int(passage.chunk.document_id),
        )
        for passage in candidates
        if passage.chunk.document_id.isdigit()
    ]
    return sorted(scored, reverse=True)


def accepted(rule: MatchRule, scored: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The candidates ``rule`` accepts, best first (``scored`` is sorted): none when the
    best is below the threshold or does not lead the second by the margin."""
    if not scored or scored[0][0] < rule.threshold:
        return []
    # A second candidate may be a withdrawn entry the index still holds: refusing then
    # errs on the safe side.
    if len(scored) > 1 and scored[0][0] - scored[1][0] < rule.margin:
        return []
    return [s for s in scored if s[0] >= rule.threshold]


@dataclass(frozen=True)
class VerifiedMatch:
    """A verified answer found for a question, with who approved it and when."""

    verified: VerifiedAnswer
    score: float
    approved_by_name: str | None
    approved_by_role: str | None
    approved_at: datetime


def index_verified(*, index: Searchable, corpus: str, verified: VerifiedAnswer) -> None:
    """Make a verified question searchable (call after the row is committed)."""
    chunk = Chunk(
        chunk_id=f"verified-{verified.id}",
        document_id=str(verified.id),
        version=1,
        ordinal=0,
        title="",
        section="",
        page=None,
        text=verified.question,
    )
    index.replace_document(
        corpus=index_name(corpus), document_id=str(verified.id), version=1, chunks=[chunk]
    )


def save_verified(
    *, session: Session, item: ReviewItem, user_id: int | None, user_role: str | None
) -> VerifiedAnswer:
    """Keep an approved answer for reuse, with the document versions it cites."""
    answer = item.answer
    if answer.status != AnswerStatus.released or not answer.text:
        raise ValueError("only a released answer can be verified")
    verified = VerifiedAnswer(
        corpus_id=answer.corpus_id,
        question=answer.question,
        text=answer.text,
        citations=list(answer.citations),
        approved_by=user_id,
        approved_by_role=user_role,
        approved_at=item.decided_at or utcnow(),
        active=True,
        source_review_id=item.id,
        provenance={"answer_id": answer.id, "review_id": item.id},
    )
    seen: set[int] = set()
    for citation in answer.citations:
        document_id, version = citation.get("document_id"), citation.get("version")
        if isinstance(document_id, int) and isinstance(version, int) and document_id not in seen:
            seen.add(document_id)
            verified.sources.append(VerifiedSource(document_id=document_id, version=version))
    session.add(verified)
    session.flush()
    log.info("verified answer %s saved from review %s", verified.id, item.id)
    return verified


def verified_for_review(*, session: Session, review_id: int) -> VerifiedAnswer | None:
    """The active verified answer saved from this review, if any."""
    return session.scalar(
        select(VerifiedAnswer).where(
            VerifiedAnswer.source_review_id == review_id, VerifiedAnswer.active.is_(True)
        )
    )


def find_verified(
    *, session: Session, index: Searchable, corpus: Corpus, question: str
) -> VerifiedMatch | None:
    """The active verified answer of ``corpus`` whose question matches closely, if any.

    ``question`` is the asker's question with personal data already masked.
    """
    if not content_stems(question):
        return None
    passages = index.search(corpus=index_name(corpus.name), query=question, k=CANDIDATES)
    rule = rule_for(index.embedder.name)
    scored = score_candidates(
        rule=rule, embedder=index.embedder, question=question, candidates=passages
    )
    for score, verified_id in accepted(rule, scored):
        verified = session.get(VerifiedAnswer, verified_id)
        if verified is None or not verified.active or verified.corpus_id != corpus.id:
            continue
        who = people(session=session, ids=[verified.approved_by]).get(verified.approved_by or -1)
        log.info("verified answer %s matched (score %.3f)", verified.id, score)
        return VerifiedMatch(
            verified=verified,
            score=score,
            approved_by_name=who.name if who else None,
            approved_by_role=verified.approved_by_role or (who.role if who else None),
            approved_at=verified.approved_at,
        )
    return None


def apply_verified(*, answer: Answer, verified: VerifiedAnswer) -> None:
    """Serve ``verified`` as ``answer``: released at once, linked to its verified source."""
    answer.status = AnswerStatus.released
    answer.text = verified.text
    answer.citations = list(verified.citations)
    answer.passages = list(verified.citations)
    answer.verified_answer_id = verified.id
    answer.reasons = []
    answer.decided_at = utcnow()


def verified_label(*, session: Session, answer: Answer) -> VerifiedMatch | None:
    """Who verified the answer served, and when (None when it was not a verified one)."""
    if answer.verified_answer_id is None:
        return None
    verified = session.get(VerifiedAnswer, answer.verified_answer_id)
    if verified is None:
        return None
    who = people(session=session, ids=[verified.approved_by]).get(verified.approved_by or -1)
    return VerifiedMatch(
        verified=verified,
        score=1.0,
        approved_by_name=who.name if who else None,
        approved_by_role=verified.approved_by_role or (who.role if who else None),
        approved_at=verified.approved_at,
    )


def withdraw(
    *, session: Session, verified: VerifiedAnswer, reason: str, index: Searchable | None = None
) -> None:
    """Stop serving ``verified``; the row stays for the history."""
    if not verified.active:
        return
    verified.active = False
    verified.withdrawn_at = utcnow()
    verified.withdrawn_reason = reason[:200]
    if index is not None:
        corpus = session.get_one(Corpus, verified.corpus_id)
        try:
            index.delete_document(corpus=index_name(corpus.name), document_id=str(verified.id))
        except Exception:  # noqa: BLE001 - the SQL flag already stops it being served
            log.exception("verified answer %s: removing it from the index failed", verified.id)
    log.info("verified answer %s withdrawn (%s)", verified.id, reason)


def withdraw_for_document(
    *,
    session: Session,
    document_id: int,
    version: int | None = None,
    reason: str = "document_updated",
    index: Searchable | None = None,
) -> list[int]:
    """Withdraw the active verified answers citing an older version of a document.

    ``version`` is the version just indexed (None: any version, e.g. the document was
    deleted). Returns the ids withdrawn.
    """
    # Ids first: PostgreSQL cannot DISTINCT rows holding JSON columns.
    citing = select(VerifiedSource.verified_answer_id).where(
        VerifiedSource.document_id == document_id
    )
    if version is not None:
        citing = citing.where(VerifiedSource.version < version)
    query = select(VerifiedAnswer).where(
        VerifiedAnswer.id.in_(citing), VerifiedAnswer.active.is_(True)
    )
    withdrawn = []
    for verified in session.scalars(query.order_by(VerifiedAnswer.id)).all():
        withdraw(session=session, verified=verified, reason=reason, index=index)
        withdrawn.append(verified.id)
    session.flush()
    return withdrawn
