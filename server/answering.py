"""The answer pipeline: condense, retrieve, generate, ground, decide, store.

Grounding and the outcome are decided in code from measured signals (see
review/grounding.py and review/policy.py); the model writes the prose. A better
model improves the prose; it is not needed for citations or decisions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from langchain_core.messages import BaseMessage
from sqlalchemy.orm import Session, sessionmaker

from corpora.models import Corpus, ReviewPolicy
from corpora.repository import get_corpus
from database import transaction, utcnow
from retrieval.index import SearchIndex
from retrieval.types import Passage
from review import answers as answer_repo
from review.grounding import (
    SentenceSplitter,
    check_citations,
    content_stems,
    coverage,
    ground_answer,
    quote_passages,
)
from review.models import Answer, AnswerStatus
from review.policy import Reason, Thresholds, decide, flag, sensitive_topic
from review.verified import apply_verified, find_verified
from server.answers.privacy import mask_personal_data
from server.llm import EngineUnavailable, Generation, LLMClient
from server.prompts import (
    answer_messages,
    citation_regex,
    condense_messages,
    detect_language,
    looks_like_injection,
    passage_block,
)

log = logging.getLogger(__name__)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_URL = re.compile(r"https?://[^\s)\]]+")


@dataclass(frozen=True)
class Caller:
    """Who asks: an account, or an anonymous citizen's session."""

    user_id: int | None = None
    session_id: str | None = None


class AskError(Exception):
    """A question that cannot be taken; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Prepared:
    answer_id: str
    conversation_id: str
    corpus_title: str
    question: str
    language: str
    passages: list[Passage]
    history: list[tuple[str, str]]
    stream_allowed: bool = True
    verified: bool = False


class AnswerService:
    """Answers questions on a corpus; one instance per app."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        index: SearchIndex,
        llm: LLMClient,
        k: int,
        thresholds: Thresholds | None = None,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._llm = llm
        self._k = k
        self.thresholds = thresholds or Thresholds()

    async def ask(
        self, *, corpus: str, question: str, conversation_id: str | None, caller: Caller
    ) -> Answer:
        answer: Answer | None = None
        async for event, value in self.ask_stream(
            corpus=corpus, question=question, conversation_id=conversation_id, caller=caller
        ):
            if event == "done":
                answer = value
        assert answer is not None
        return answer

    async def ask_stream(
        self, *, corpus: str, question: str, conversation_id: str | None, caller: Caller
    ) -> AsyncIterator[tuple[str, Any]]:
        """Yield ("started", ids), ("sentence", text)..., then ("done", stored Answer).

        Only verified sentences are streamed, and only when the corpus does not hold every
        answer for review: the asker never sees a sentence the passages do not support.
        """
        prepared = await to_thread.run_sync(
            self._prepare, corpus, question, conversation_id, caller
        )
        yield (
            "started",
            {"answer_id": prepared.answer_id, "conversation_id": prepared.conversation_id},
        )
        if prepared.verified:
            stored = await to_thread.run_sync(self._load, prepared.answer_id)
            yield "sentence", stored.text or ""
            yield "done", stored
            return
        generation: Generation | None = None
        if self._worth_answering(prepared):
            try:
                if prepared.history:
                    prepared.question = await self._condense(prepared)
                messages, regex = self.request_for(
                    corpus_title=prepared.corpus_title,
                    question=prepared.question,
                    passages=prepared.passages,
                    language=prepared.language,
                )
                splitter, seen = SentenceSplitter(), set[str]()
                texts = [p.chunk.text for p in prepared.passages]
                relevant = self._relevant(prepared)
                async for delta, so_far in self._llm.stream(messages, regex=regex):
                    generation = so_far
                    done = splitter.feed(delta) if delta else splitter.flush()
                    for sentence in done if prepared.stream_allowed else ():
                        checked = check_citations(sentence, len(texts)).text
                        grounded = ground_answer(
                            _keep_known_links(checked, texts),
                            texts,
                            question=prepared.question,
                            eligible=relevant,
                            seen=seen,
                        )
                        if grounded.kept:
                            yield "sentence", grounded.text
            except EngineUnavailable as error:
                log.warning("answer %s: engine unavailable (%s)", prepared.answer_id, error)
                stored = await to_thread.run_sync(self._keep_for_agent, prepared)
                yield "done", stored
                return
        stored = await to_thread.run_sync(self._finish, prepared, generation)
        yield "done", stored

    def request_for(
        self, *, corpus_title: str, question: str, passages: list[Passage], language: str
    ) -> tuple[list[BaseMessage], str]:
        """The messages and decoding constraint sent to the engine for one question."""
        messages = answer_messages(
            corpus_title=corpus_title,
            question=question,
            passages=[
                passage_block(i, p.chunk.title, p.chunk.section, p.chunk.text)
                for i, p in enumerate(passages, start=1)
            ],
            language=language,
        )
        return messages, citation_regex(len(passages))

    def search(self, corpus: str, query: str) -> list[Passage]:
        """The passages a question would be answered from (public for benchmarks)."""
        return self._search(corpus, query)

    # -- steps -------------------------------------------------------------------

    def _prepare(
        self, corpus_name: str, question: str, conversation_id: str | None, caller: Caller
    ) -> Prepared:
        masked = mask_personal_data(question.strip())
        with transaction(self._sessions) as session:
            corpus = get_corpus(session=session, name=corpus_name)
            if corpus is None:
                raise AskError("unknown_corpus")
            conversation = answer_repo.open_conversation(
                session=session,
                corpus_id=corpus.id,
                conversation_id=conversation_id,
                user_id=caller.user_id,
                session_id=caller.session_id,
            )
            if conversation is None:
                raise AskError("unknown_conversation")
            history = [
                (a.question, a.text or "")
                for a in answer_repo.history(session=session, conversation=conversation)
            ]
            answer = Answer(
                conversation_id=conversation.id,
                corpus_id=corpus.id,
                question=masked.text,
                language=detect_language(masked.text),
                status=AnswerStatus.generating,
                masked_personal_data=masked.found,
            )
            session.add(answer)
            session.flush()
            prepared = Prepared(
                answer_id=answer.id,
                conversation_id=conversation.id,
                corpus_title=corpus.title,
                question=masked.text,
                language=answer.language,
                passages=[],
                history=history,
                stream_allowed=corpus.review_policy != ReviewPolicy.always,
            )
        if not history:
            prepared.verified = self._reuse_verified(corpus_name, prepared.answer_id, masked.text)
            if not prepared.verified:
                prepared.passages = self._search(corpus_name, masked.text)
        return prepared

    def _reuse_verified(self, corpus_name: str, answer_id: str, question: str) -> bool:
        """Serve an answer a reviewer verified for a close paraphrase, if there is one."""
        with transaction(self._sessions) as session:
            corpus = get_corpus(session=session, name=corpus_name)
            match = corpus and find_verified(
                session=session, index=self._index, corpus=corpus, question=question
            )
            if not match:
                return False
            apply_verified(answer=session.get_one(Answer, answer_id), verified=match.verified)
            log.info("answer %s: verified answer %s reused", answer_id, match.verified.id)
            return True

    def _load(self, answer_id: str) -> Answer:
        with transaction(self._sessions) as session:
            return session.get_one(Answer, answer_id)

    def _search(self, corpus: str, query: str) -> list[Passage]:
        """Retrieve passages, leaving out any that tries to instruct the model."""
        passages = self._index.search(corpus=corpus, query=query, k=self._k)
        safe = [p for p in passages if not looks_like_injection(p.chunk.text)]
        if len(safe) < len(passages):
            log.warning(
                "corpus %s: %d passage(s) that look like instructions to the model left out: %s",
                corpus,
                len(passages) - len(safe),
                ",".join(p.chunk.chunk_id for p in passages if p not in safe),
            )
        return safe

    async def _condense(self, prepared: Prepared) -> str:
        """Turn a follow-up into a standalone question, then retrieve for it."""
        generation = await self._llm.generate(
            condense_messages(
                history=prepared.history, question=prepared.question, language=prepared.language
            )
        )
        standalone = generation.text.strip().splitlines()[0] if generation.text.strip() else ""
        # The small model sometimes answers instead of rewriting; keep the original then.
        if not standalone or len(standalone) > 3 * len(prepared.question) + 80:
            standalone = prepared.question + " " + prepared.history[-1][0]
        corpus = await to_thread.run_sync(self._corpus_name, prepared.answer_id)
        prepared.passages = await to_thread.run_sync(self._search, corpus, standalone)
        return standalone

    def _corpus_name(self, answer_id: str) -> str:
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, answer_id)
            corpus = session.get_one(Corpus, answer.corpus_id)
            return corpus.name

    def support_of(self, question: str, passages: list[Passage]) -> float:
        """Share of the question's content words found in its best passage."""
        if not passages or not content_stems(question):
            return 0.0
        return max(
            coverage(question, f"{p.chunk.title} {p.chunk.section} {p.chunk.text}")
            for p in passages
        )

    def _worth_answering(self, prepared: Prepared) -> bool:
        return (
            bool(prepared.passages)
            and (
                self.support_of(prepared.question, prepared.passages)
                >= self.thresholds.decline_below
            )
            or bool(prepared.history)
        )

    def _finish(self, prepared: Prepared, generation: Generation | None) -> Answer:
        passages = [p.chunk.text for p in prepared.passages]
        support = self.support_of(prepared.question, prepared.passages)
        reasons: list[dict[str, str]] = []
        text: str | None = None
        cited: list[int] = []
        if generation is not None and support >= self.thresholds.decline_below:
            text, cited, reasons = self._compose(prepared, generation, passages)
            if support < self.thresholds.weak_below:
                reasons.append(flag(Reason.weak_support, f"{support:.2f}"))
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            corpus = session.get_one(Corpus, answer.corpus_id)
            topic = sensitive_topic(answer.question, corpus.sensitive_topics or [])
            if text and topic:
                reasons.append(topic)
            decision = decide(policy=corpus.review_policy, reasons=reasons, has_answer=bool(text))
            answer.search_query = prepared.question
            answer.draft = generation.text if generation else None
            answer.support = support
            answer.passages = [
                _passage_record(i, p) for i, p in enumerate(prepared.passages, start=1)
            ]
            answer.citations = [answer.passages[n - 1] for n in cited]
            answer.reasons = decision.reasons
            if generation is not None:
                answer.prompt_tokens = generation.prompt_tokens
                answer.completion_tokens = generation.completion_tokens
                answer.ttft_ms = generation.ttft_ms
                answer.total_ms = generation.total_ms
                answer.model = generation.model
            if decision.status == AnswerStatus.declined:
                answer_repo.mark_decided(answer, decision.status, None)
                answer.citations = []
            else:
                answer.status = decision.status
                answer.text = text
                if decision.status == AnswerStatus.released:
                    answer.decided_at = utcnow()
                else:
                    answer_repo.enqueue(
                        session=session,
                        answer=answer,
                        reasons=decision.reasons,
                        priority=decision.priority,
                    )
            log.info(
                "answer %s: %s (support %.2f, %d passages, reasons %s)",
                answer.id,
                answer.status,
                support,
                len(passages),
                ",".join(r["code"] for r in decision.reasons) or "-",
            )
            return answer

    def _relevant(self, prepared: Prepared) -> set[int]:
        """Passages (1-based) that cover the question: only they may support a sentence."""
        return {
            n
            for n, p in enumerate(prepared.passages, start=1)
            if self.support_of(prepared.question, [p]) >= self.thresholds.decline_below
        }

    def _compose(
        self, prepared: Prepared, generation: Generation, passages: list[str]
    ) -> tuple[str | None, list[int], list[dict[str, str]]]:
        """The text the asker may see, its citations, and why it should be reviewed.

        Only what a relevant passage supports is kept. When none of the draft survives,
        the answer quotes the best passage sentences verbatim instead (grounded by
        construction); a draft that was mostly unsupported flags the answer.
        """
        reasons: list[dict[str, str]] = []
        relevant = {
            n
            for n, p in enumerate(prepared.passages, start=1)
            if self.support_of(prepared.question, [p]) >= self.thresholds.decline_below
        }
        checked = check_citations(generation.text, len(passages))
        if checked.invalid:
            reasons.append(flag(Reason.citation_invalid, " ".join(checked.invalid)))
        grounded = ground_answer(
            _keep_known_links(checked.text, passages),
            passages,
            question=prepared.question,
            eligible=relevant,
        )
        if grounded.kept == 0:
            text, cited = quote_passages(prepared.question, passages, eligible=relevant)
            return text or None, cited, reasons
        if len(grounded.removed) > grounded.kept:
            reasons.append(flag(Reason.unsupported_sentence, str(len(grounded.removed))))
        text, cited = grounded.text, grounded.cited
        best = min(relevant) if relevant else None
        if best is not None and best not in cited:
            # The draft leaned on lower-ranked passages only: lead with what the best-ranked
            # one says, the retriever being the better judge of which document answers.
            lead, _ = quote_passages(prepared.question, passages, eligible={best}, limit=1)
            if lead:
                text, cited = f"{lead}\n{text}", [best, *cited]
        return text, cited, reasons

    def _keep_for_agent(self, prepared: Prepared) -> Answer:
        """The engine is down: keep the question and queue it for a person."""
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            answer.status = AnswerStatus.pending_review
            answer.passages = [
                _passage_record(i, p) for i, p in enumerate(prepared.passages, start=1)
            ]
            reasons = [flag(Reason.engine_unavailable)]
            answer.reasons = reasons
            answer_repo.enqueue(session=session, answer=answer, reasons=reasons, priority=45)
            return answer


def _passage_record(n: int, passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "n": n,
        "document_id": int(chunk.document_id) if chunk.document_id.isdigit() else chunk.document_id,
        "chunk_id": chunk.chunk_id,
        "version": chunk.version,
        "title": chunk.title,
        "section": chunk.section,
        "page": chunk.page,
        "excerpt": chunk.text[:600],
        "score": round(passage.score, 4),
    }


def _keep_known_links(text: str, passages: list[str]) -> str:
    """Drop links the passages do not contain: the model must not invent addresses."""
    known = "\n".join(passages)
    return _URL.sub(lambda m: m.group(0) if m.group(0) in known else "", text)
