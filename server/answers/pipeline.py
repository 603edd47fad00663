"""The answer pipeline: stand alone, retrieve, judge coverage, compose, check, decide, store.

Coverage, the sentences that answer and whether the model's text is supported are decided
in code from measured signals (review/extractive.py, coverage.py, grounding.py). Modes:
**extractive** answers with whole units of the passages chosen for the question, right by
construction (for small models that cannot restate a fee or a deadline); **generative**
lets the model write (``drafting.py``) and keeps each sentence only when one sentence of
a passage supports it, figures included; with nothing left, the answer is the extractive
one (never filler). ``auto`` picks extractive for ``asking.SMALL_MODELS``.
The corpus is read once per question; the route gets back the stored answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from corpora.models import Corpus
from corpora.repository import get_corpus, list_corpora
from database import transaction, utcnow
from retrieval.index import SearchIndex
from retrieval.spelling import written_out
from retrieval.types import Passage
from review import answers as answer_repo
from review.coverage import CoverageRule, judge, rule_for
from review.extractive import Candidate, Composition, Extractor, SourcePassage
from review.models import Answer, AnswerStatus
from review.policy import Reason, Thresholds, decide, sensitive_topic
from review.verified import apply_verified, find_verified
from server.answers.asking import (
    SMALL_MODELS,
    AnswerMode,
    AskError,
    Caller,
    CorpusFacts,
    Prepared,
    resolve_mode,
)
from server.answers.drafting import Drafter
from server.answers.fitting import PromptTooLong
from server.answers.followups import FollowUps
from server.answers.privacy import mask_personal_data
from server.answers.prompts import detect_language, looks_like_injection
from server.answers.records import (
    cited_titles,
    passage_records,
    queue_for_agent,
    record_engine_use,
    sources_found,
)
from server.engine.client import EngineUnavailable, Generation, LLMClient

__all__ = ["AnswerMode", "AnswerService", "AskError", "Caller"]
log = logging.getLogger(__name__)


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
        mode: AnswerMode = AnswerMode.auto,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._k = k
        self.mode = resolve_mode(mode, llm.model)
        self.coverage: CoverageRule = rule_for(index.embedder.name)
        if thresholds is not None:
            self.coverage = dataclasses.replace(self.coverage, thresholds=thresholds)
        # A small model picks the first sentence it is shown, or one at random when they
        # are shuffled (docs/answers.md): the code's choice is better. A larger one reads.
        self.model_chooses = self.mode == AnswerMode.extractive and not SMALL_MODELS.search(
            llm.model
        )
        analyze = index.analyzer.analyze
        self._followups = FollowUps(
            analyze=analyze, content=lambda text: set(Extractor.content_terms(analyze, text))
        )
        self._drafter = Drafter(llm=llm, followups=self._followups, coverage=self.coverage)

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

        Only checked sentences are streamed, and only when the corpus does not hold every
        answer for review: the asker never sees a sentence the passages do not support.
        Whatever happens after the question is stored, it ends answered, declined or
        queued for a person: never left half-written.
        """
        prepared = await to_thread.run_sync(
            self._prepare, corpus, question, conversation_id, caller
        )
        yield (
            "started",
            {"answer_id": prepared.answer_id, "conversation_id": prepared.conversation_id},
        )
        finished = False
        try:
            async for event in self._answer(prepared):
                finished = event[0] == "done"
                yield event
        except (asyncio.CancelledError, GeneratorExit):
            # The asker left mid-way (page closed): the question is kept for a person.
            if not finished:
                self._keep_for_agent(prepared, Reason.interrupted)
            raise
        except Exception:
            log.exception("answer %s: failed while being written", prepared.answer_id)
            yield (
                "done",
                await to_thread.run_sync(self._keep_for_agent, prepared, Reason.interrupted),
            )

    def warm_up(self) -> None:
        """Open every corpus's indexes and run the models once, so that the first askers
        after a start do not wait for it (seconds on a CPU)."""
        with transaction(self._sessions) as session:
            names = [corpus.name for corpus in list_corpora(session=session)]
        start = time.perf_counter()
        written_out("démarche")  # the word lists, read once
        for name in names:
            try:
                self._candidates(name, "démarche", self.search(name, "démarche"))
            except Exception:  # a corpus that cannot be searched says so when asked
                log.warning("corpus %s: not opened ahead of questions", name, exc_info=True)
        log.info("%d corpora ready for questions (%.1f s)", len(names), time.perf_counter() - start)

    # -- steps -------------------------------------------------------------------

    async def _answer(self, prepared: Prepared) -> AsyncIterator[tuple[str, Any]]:
        """The steps after the question is stored: sentences, then the stored answer."""
        if prepared.verified:
            stored = await to_thread.run_sync(self._load, prepared.answer_id)
            yield "sentence", stored.text or ""
            yield "done", stored
            return
        if prepared.previous:
            lexical = await to_thread.run_sync(self._index.lexical_index, prepared.corpus.name)
            rewrite = await self._drafter.standalone(prepared, headed=lexical.heads)
            prepared.standalone = await to_thread.run_sync(
                self._written_out, prepared.corpus.name, rewrite, prepared.language
            )
        await to_thread.run_sync(self._retrieve, prepared)
        if prepared.judgement is None or not prepared.judgement.covered:
            yield "done", await to_thread.run_sync(self._finish, prepared, None, None)
            return
        chosen = await self._drafter.choose(prepared) if self.model_chooses else None
        extractive = self._extractor(prepared.corpus.name).compose(prepared.candidates, chosen)
        known = self._index.lexical_index(prepared.corpus.name).holds
        prepared.doubtful = prepared.doubt(extractive, self._followups, known=known) is not None
        if prepared.stream_allowed:
            yield "sources", sources_found(prepared)
        if self.mode == AnswerMode.extractive or prepared.declined_anyway:
            if prepared.stream_allowed:
                for line in extractive.text.splitlines():
                    yield "sentence", line
            yield "done", await to_thread.run_sync(self._finish, prepared, extractive, None)
            return
        # Generative: the answer leads with the best unit (checked by construction), decided
        # from retrieval at once, so the asker reads it while the model writes the rest.
        lead = extractive.lead()
        if lead.text and prepared.stream_allowed:
            for line in lead.text.splitlines():
                yield "sentence", line
        generation: Generation | None = None
        try:
            async for sentence, so_far in self._drafter.generate(prepared, lead=lead):
                generation = so_far
                if sentence and prepared.stream_allowed:
                    yield "sentence", sentence
        except (EngineUnavailable, PromptTooLong) as error:
            log.warning("answer %s: engine unavailable (%s)", prepared.answer_id, error)
            stored = await to_thread.run_sync(
                self._keep_for_agent, prepared, Reason.engine_unavailable
            )
            yield "done", stored
            return
        yield "done", await to_thread.run_sync(self._finish, prepared, extractive, generation)

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
            last = answer_repo.history(session=session, conversation=conversation, limit=1)
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
            previous = (last[-1].search_query or last[-1].question) if last else None
            prepared = Prepared(
                answer_id=answer.id,
                conversation_id=conversation.id,
                corpus=CorpusFacts(
                    id=corpus.id,
                    name=corpus.name,
                    title=corpus.title,
                    policy=corpus.review_policy,
                    sensitive_topics=tuple(corpus.sensitive_topics or ()),
                ),
                question=masked.text,
                language=answer.language,
                previous=previous,
                previous_titles=cited_titles(last[-1]) if last else (),
            )
            if previous is None:
                prepared.verified = self._reuse_verified(session, corpus, answer)
        # Searched as French is written: « temoins », « didentité » share nothing with the
        # documents' « témoins », « d'identité ». The asker's words are what is stored.
        prepared.written = self._written_out(corpus_name, masked.text, prepared.language)
        prepared.standalone = prepared.written
        return prepared

    def _written_out(self, corpus: str, text: str, language: str) -> str:
        """``text`` with its typing shortcuts written out, when it is French."""
        return self._index.written_out(corpus=corpus, text=text) if language == "fr" else text

    def _reuse_verified(self, session: Session, corpus: Corpus, answer: Answer) -> bool:
        """Serve an answer a reviewer verified for a close paraphrase, if there is one."""
        match = find_verified(
            session=session, index=self._index, corpus=corpus, question=answer.question
        )
        if not match:
            return False
        apply_verified(answer=answer, verified=match.verified)
        log.info("answer %s: verified answer %s reused", answer.id, match.verified.id)
        return True

    def _load(self, answer_id: str) -> Answer:
        with transaction(self._sessions) as session:
            return session.get_one(Answer, answer_id)

    def search(self, corpus: str, query: str) -> list[Passage]:
        """The passages a question is answered from: those that try to instruct the model
        are left out."""
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

    def _retrieve(self, prepared: Prepared) -> None:
        """Passages, their scored units, and whether they cover the question."""
        prepared.passages = self.search(prepared.corpus.name, prepared.standalone)
        prepared.candidates = self._candidates(
            prepared.corpus.name, prepared.standalone, prepared.passages
        )
        prepared.judgement = judge(prepared.candidates, self.coverage)

    def _candidates(self, corpus: str, question: str, passages: list[Passage]) -> list[Candidate]:
        sources = [
            SourcePassage(
                n,
                p.chunk.title,
                p.chunk.section,
                p.chunk.text,
                opens_section=self._index.opens_section(corpus=corpus, chunk=p.chunk),
            )
            for n, p in enumerate(passages, start=1)
        ]
        return self._extractor(corpus).candidates(question, sources)

    def _extractor(self, corpus: str) -> Extractor:
        return Extractor(
            analyze=self._index.analyzer.terms,
            weights=lambda text: self._index.term_weights(corpus=corpus, text=text),
            similarity=self._index.similarities,
        )

    def _finish(
        self,
        prepared: Prepared,
        extractive: Composition | None,
        generation: Generation | None,
    ) -> Answer:
        """Decide (release, hold, decline) and store what the asker gets."""
        judgement = prepared.judgement
        reasons: list[dict[str, str]] = []
        text: str | None = None
        cited: list[int] = []
        if generation is not None and extractive is not None:
            text, cited, reasons = self._drafter.compose(prepared, generation, extractive)
        elif extractive is not None:
            text, cited = extractive.text or None, extractive.cited
        doubt = prepared.doubt(
            extractive,
            self._followups,
            known=self._index.lexical_index(prepared.corpus.name).holds,
            answer=(text, cited) if text else None,
        )
        if text and doubt:
            reasons.append(doubt)
        # Both forms: « jai ete victime dagression » names « agression » once written out.
        asked = f"{prepared.question} {prepared.written}"
        topic = sensitive_topic(asked, list(prepared.corpus.sensitive_topics))
        if text and topic:
            reasons.append(topic)
        decision = decide(policy=prepared.corpus.policy, reasons=reasons, has_answer=bool(text))
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            answer.search_query = prepared.standalone
            answer.draft = generation.text if generation else None
            answer.support = judgement.score if judgement else 0.0
            answer.passages = passage_records(prepared.passages)
            answer.citations = [answer.passages[n - 1] for n in cited]
            answer.reasons = decision.reasons
            calls = [*prepared.engine_calls, *([generation] if generation else [])]
            record_engine_use(answer, calls)
            if generation is not None:
                answer.ttft_ms = generation.ttft_ms
                answer.total_ms = generation.total_ms
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
                "answer %s: %s (mode %s, support %.2f, %d passages, reasons %s)",
                answer.id,
                answer.status,
                self.mode,
                answer.support or 0.0,
                len(prepared.passages),
                ",".join(r["code"] for r in decision.reasons) or "-",
            )
            return answer

    def _keep_for_agent(self, prepared: Prepared, reason: Reason) -> Answer:
        """The answer cannot be written now: keep the question and queue it for a person."""
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            queue_for_agent(
                session=session,
                answer=answer,
                query=prepared.standalone,
                passages=prepared.passages,
                reason=reason,
            )
            return answer
