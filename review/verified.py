"""Verified answers: approved once by a person, served again for close paraphrases.

Verified questions are indexed in the app's search index under a corpus of their own
(``verified--<corpus>``), so that paraphrases are found by the same hybrid search as
passages. A candidate is accepted only above a threshold on a score that mixes the
dense similarity of the two questions with the overlap of their content words; both
are calibrated by ``scripts/calibrate_verified.py`` on the paraphrase groups of
``../shared/eval/cnil-faq``. The SQL row stays the truth: an entry left in the search
index after a withdrawal is ignored.

A verified answer is withdrawn as soon as a document it cites gets a new version (its
text was checked against the old one) or is deleted: server/documents/lifecycle.py hooks
:func:`withdraw_for_document` into every path that changes a document.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.people import people
from corpora.models import Corpus
from database import utcnow
from retrieval.types import Chunk, Passage
from review.grounding import content_stems, fold
from review.models import Answer, AnswerStatus, ReviewItem, VerifiedAnswer, VerifiedSource

log = logging.getLogger(__name__)

# Weight of the dense similarity in the match score (the rest is lexical overlap), the
# score a candidate needs, and the lower score that suffices when the asker's best passage
# is in a document the verified answer cites (two askers whose questions the same page
# answers best, worded alike, ask the same thing). Chosen with scripts/calibrate_verified.py
# on cnil-faq with multilingual-e5 (the rule: the highest recall at a precision of at
# least 0.9): precision 0.910 for recall 0.355 of its (loose) paraphrases, against 0.923
# for 0.105 on wording alone. Precision comes first: a wrong verified answer is worse than
# a normal one, which is still checked (docs/answers.md).
DENSE_WEIGHT = 0.9
MATCH_THRESHOLD = 0.94
SAME_SOURCE_THRESHOLD = 0.86
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
    "ou": "where",
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
_WORD = re.compile(r"[a-z0-9]+")


class Searchable(Protocol):
    """What verified answers need from ``retrieval.index.SearchIndex``."""

    def replace_document(
        self, *, corpus: str, document_id: str, version: int, chunks: list[Chunk]
    ) -> None: ...

    def delete_document(self, *, corpus: str, document_id: str) -> None: ...

    def search(self, *, corpus: str, query: str, k: int = 5) -> list[Passage]: ...


def index_name(corpus: str) -> str:
    """The search-index corpus holding the verified questions of ``corpus``."""
    return f"verified--{corpus}"


def _terms(question: str) -> set[str]:
    intents = {"#" + _INTENTS[w] for w in _WORD.findall(fold(question)) if w in _INTENTS}
    return set(content_stems(question)) | intents


def lexical_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two questions' content stems and intents (0 to 1)."""
    left, right = _terms(a), _terms(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def match_score(dense: float, lexical: float, dense_weight: float = DENSE_WEIGHT) -> float:
    return dense_weight * dense + (1 - dense_weight) * lexical


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


def accepts(score: float, *, same_source: bool) -> bool:
    """Whether a verified question scoring ``score`` is a paraphrase of the asker's."""
    return score >= MATCH_THRESHOLD or (same_source and score >= SAME_SOURCE_THRESHOLD)


def find_verified(
    *,
    session: Session,
    index: Searchable,
    corpus: Corpus,
    question: str,
    best_document: int | None = None,
) -> VerifiedMatch | None:
    """The active verified answer of ``corpus`` whose question matches closely, if any.

    ``question`` is the asker's question with personal data already masked;
    ``best_document`` the document of its best passage in the corpus, if known.
    """
    if not content_stems(question):
        return None
    passages = index.search(corpus=index_name(corpus.name), query=question, k=CANDIDATES)
    scored: list[tuple[float, int]] = []
    for passage in passages:
        if not passage.chunk.document_id.isdigit():
            continue
        lexical = lexical_similarity(question, passage.chunk.text)
        scored.append(
            (match_score(passage.dense_score or 0.0, lexical), int(passage.chunk.document_id))
        )
    scored.sort(reverse=True)
    for score, verified_id in scored:
        if score < min(MATCH_THRESHOLD, SAME_SOURCE_THRESHOLD):
            break
        verified = session.get(VerifiedAnswer, verified_id)
        if verified is None or not verified.active or verified.corpus_id != corpus.id:
            continue
        cited = {source.document_id for source in verified.sources}
        if not accepts(score, same_source=best_document in cited):
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
