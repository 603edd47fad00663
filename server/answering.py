"""The answer pipeline: stand alone, retrieve, judge coverage, compose, check, decide, store.

Whether the documents cover a question, which of their sentences answer it, and whether
what the model wrote is supported are all decided in code from measured signals (see
review/extractive.py, review/coverage.py, review/grounding.py). Two answer modes:

- **extractive**: the answer is made of whole units of the passages (sentences, list
  items, table rows), chosen for the question: right by construction. For small models
  (the embedded default) that cannot restate a fee or a deadline faithfully;
- **generative**: the model writes, and each of its sentences must be supported by one
  sentence of a passage, with its figures; what is not is dropped, and an answer left
  with nothing becomes the extractive one (never filler).

``auto`` picks extractive for the models known to be too small (``SMALL_MODELS``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
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
from review.coverage import Judgement, judge
from review.extractive import Candidate, Composition, Extractor, SourcePassage
from review.grounding import SentenceSplitter, check_citations, ground_answer
from review.models import Answer, AnswerStatus
from review.policy import PRIORITY, Reason, Thresholds, decide, flag, sensitive_topic
from review.verified import apply_verified, find_verified
from server.answers.privacy import mask_personal_data
from server.fitting import Fitted, PassageText, PromptTooLong, fit
from server.followups import FollowUps
from server.llm import EngineUnavailable, Generation, LLMClient
from server.prompts import (
    answer_messages,
    choice_messages,
    citation_regex,
    condense_messages,
    detect_language,
    looks_like_injection,
    passage_block,
)

log = logging.getLogger(__name__)
_URL = re.compile(r"https?://[^\s)\]]+")
# Served models too small to write grounded prose: `auto` answers extractively with them.
SMALL_MODELS = re.compile(r"smollm|135m|360m", re.I)
CHOICES = 4  # units the model may choose among
MAX_REWRITE_TOKENS = 80


class AnswerMode(enum.StrEnum):
    extractive = "extractive"
    generative = "generative"
    auto = "auto"


def resolve_mode(mode: str, model: str) -> AnswerMode:
    """The mode to use with ``model`` when the setting says ``mode``."""
    chosen = AnswerMode(mode)
    if chosen != AnswerMode.auto:
        return chosen
    return AnswerMode.extractive if SMALL_MODELS.search(model) else AnswerMode.generative


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
    """A question on its way through the pipeline, once stored as ``generating``."""

    answer_id: str
    conversation_id: str
    corpus_name: str
    corpus_title: str
    question: str  # as asked (masked)
    language: str
    previous: str | None  # the previous question of the conversation, standing alone
    stream_allowed: bool = True
    verified: bool = False
    standalone: str = ""  # the question as searched (a follow-up rewritten)
    passages: list[Passage] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    judgement: Judgement | None = None
    engine_calls: list[Generation] = field(default_factory=list)  # for tokens and energy


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
        self._llm = llm
        self._k = k
        self.thresholds = thresholds or Thresholds()
        self.mode = resolve_mode(mode, llm.model)
        # A small model picks the first sentence it is shown, or one at random when they
        # are shuffled (docs/answers.md): the code's choice is better. A larger one reads.
        self.model_chooses = self.mode == AnswerMode.extractive and not SMALL_MODELS.search(
            llm.model
        )
        analyze = index.analyzer.analyze
        self._followups = FollowUps(analyze=analyze, content=self._content_terms)

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

    async def _answer(self, prepared: Prepared) -> AsyncIterator[tuple[str, Any]]:
        """The steps after the question is stored: sentences, then the stored answer."""
        if prepared.verified:
            stored = await to_thread.run_sync(self._load, prepared.answer_id)
            yield "sentence", stored.text or ""
            yield "done", stored
            return
        if prepared.previous:
            prepared.standalone = await self._standalone(prepared)
        await to_thread.run_sync(self._retrieve, prepared)
        judgement = prepared.judgement
        if judgement is None or not judgement.covered:
            yield "done", await to_thread.run_sync(self._finish, prepared, None, None)
            return
        if self.mode == AnswerMode.extractive:
            chosen = await self._choose(prepared) if self.model_chooses else None
            composition = self._extractor(prepared.corpus_name).compose(prepared.candidates, chosen)
            if prepared.stream_allowed:
                for line in composition.text.splitlines():
                    yield "sentence", line
            yield "done", await to_thread.run_sync(self._finish, prepared, composition, None)
            return
        generation: Generation | None = None
        try:
            async for sentence, so_far in self._generate(prepared):
                generation = so_far
                if sentence and prepared.stream_allowed:
                    yield "sentence", sentence
        except (EngineUnavailable, PromptTooLong) as error:
            log.warning("answer %s: engine unavailable (%s)", prepared.answer_id, error)
            yield (
                "done",
                await to_thread.run_sync(self._keep_for_agent, prepared, Reason.engine_unavailable),
            )
            return
        yield "done", await to_thread.run_sync(self._finish, prepared, None, generation)

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
                corpus_name=corpus.name,
                corpus_title=corpus.title,
                question=masked.text,
                language=answer.language,
                previous=previous,
                stream_allowed=corpus.review_policy != ReviewPolicy.always,
                standalone=masked.text,
            )
        if previous is None:
            prepared.verified = self._reuse_verified(corpus_name, prepared.answer_id, masked.text)
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

    async def _standalone(self, prepared: Prepared) -> str:
        """The follow-up made to stand alone (the model's rewrite if usable, else a rule)."""
        previous = prepared.previous or ""
        if not self._followups.is_followup(prepared.question):
            return prepared.question
        try:
            generation = await self._llm.generate(
                condense_messages(
                    history=[(previous, "")], question=prepared.question, language=prepared.language
                ),
                max_tokens=MAX_REWRITE_TOKENS,
            )
            prepared.engine_calls.append(generation)
            rewrite = generation.text.strip().splitlines()[0] if generation.text.strip() else ""
        except EngineUnavailable as error:
            log.info("answer %s: follow-up rewritten by rule (%s)", prepared.answer_id, error)
            rewrite = ""
        if rewrite and self._followups.usable(
            rewrite, question=prepared.question, previous=previous
        ):
            return rewrite
        return self._followups.by_rule(prepared.question, previous)

    async def _choose(self, prepared: Prepared) -> Candidate | None:
        """The model's pick among the best distinct units (None: keep the code's)."""
        shortlist: list[Candidate] = []
        for candidate in prepared.candidates:
            if all(c.unit.text != candidate.unit.text for c in shortlist):
                shortlist.append(candidate)
            if len(shortlist) == CHOICES:
                break
        if len(shortlist) < 2:
            return None
        try:
            generation = await self._llm.generate(
                choice_messages(
                    corpus_title=prepared.corpus_title,
                    question=prepared.standalone,
                    sentences=[c.unit.text for c in shortlist],
                    language=prepared.language,
                ),
                choice=[str(n) for n in range(1, len(shortlist) + 1)],
                max_tokens=2,
            )
        except EngineUnavailable as error:
            log.info("answer %s: units chosen by the code (%s)", prepared.answer_id, error)
            return None
        prepared.engine_calls.append(generation)
        picked = generation.text.strip()
        return (
            shortlist[int(picked) - 1]
            if picked.isdigit() and 0 < int(picked) <= len(shortlist)
            else None
        )

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

    def _retrieve(self, prepared: Prepared) -> None:
        """Passages, their scored units, and whether they cover the question."""
        prepared.passages = self._search(prepared.corpus_name, prepared.standalone)
        sources = [
            SourcePassage(n, p.chunk.title, p.chunk.section, p.chunk.text)
            for n, p in enumerate(prepared.passages, start=1)
        ]
        extractor = self._extractor(prepared.corpus_name)
        prepared.candidates = extractor.candidates(prepared.standalone, sources)
        prepared.judgement = judge(
            prepared.candidates[0] if prepared.candidates else None, self.thresholds
        )

    def _extractor(self, corpus: str) -> Extractor:
        return Extractor(
            analyze=self._index.analyzer.analyze,
            weights=lambda text: self._index.term_weights(corpus=corpus, text=text),
            similarity=self._index.similarities,
        )

    def _content_terms(self, text: str) -> set[str]:
        return set(Extractor.content_terms(self._index.analyzer.analyze, text))

    async def _generate(self, prepared: Prepared) -> AsyncIterator[tuple[str, Generation]]:
        """Stream the model's draft; yield each sentence once checked (or "" between).

        The prompt is fitted to the engine's window first (``server.fitting``); a draft
        cut by the token limit loses its unfinished last sentence.
        """
        fitted = await self._fit(prepared)
        if fitted.kept < len(prepared.passages):
            log.info(
                "answer %s: %d of %d passages fit the engine's window (%d cut)",
                prepared.answer_id,
                fitted.kept,
                len(prepared.passages),
                fitted.trimmed,
            )
        regex = citation_regex(fitted.kept)
        splitter, seen = SentenceSplitter(), set[str]()
        texts = [p.chunk.text for p in prepared.passages]
        eligible = self._eligible(prepared)
        async for delta, generation in self._llm.stream(
            fitted.messages, regex=regex, max_tokens=fitted.max_tokens
        ):
            if delta:
                done = splitter.feed(delta)
            else:
                # The end: what is left is a sentence, unless the token limit cut it.
                done = [] if generation.truncated else splitter.flush()
            yield "", generation
            for sentence in done:
                checked = check_citations(sentence, len(texts)).text
                grounded = ground_answer(
                    _keep_known_links(checked, texts),
                    texts,
                    question=prepared.standalone,
                    eligible=eligible,
                    seen=seen,
                )
                if grounded.kept:
                    yield grounded.text, generation

    async def _fit(self, prepared: Prepared) -> Fitted:
        """The answer prompt, cut to the engine's window (best units of each passage)."""

        def build(texts: list[str]) -> list[BaseMessage]:
            return answer_messages(
                corpus_title=prepared.corpus_title,
                question=prepared.standalone,
                passages=[
                    passage_block(n, p.chunk.title, p.chunk.section, text)
                    for n, (p, text) in enumerate(zip(prepared.passages, texts, strict=False), 1)
                ],
                language=prepared.language,
            )

        units: dict[int, list[tuple[int, str]]] = {}
        for candidate in prepared.candidates:  # best first
            units.setdefault(candidate.n, []).append((candidate.unit.position, candidate.unit.text))
        passages = [
            PassageText(p.chunk.text, units.get(n, []))
            for n, p in enumerate(prepared.passages, start=1)
        ]
        return await fit(llm=self._llm, build=build, passages=passages)

    def _eligible(self, prepared: Prepared) -> set[int]:
        """Passages (1-based) holding a unit that answers the question: only they may
        support a sentence of the model."""
        floor = self.thresholds.decline_below
        return {c.n for c in prepared.candidates if c.score >= floor}

    def _finish(
        self,
        prepared: Prepared,
        composition: Composition | None,
        generation: Generation | None,
    ) -> Answer:
        judgement = prepared.judgement
        reasons: list[dict[str, str]] = []
        text: str | None = None
        cited: list[int] = []
        if composition is not None:
            text, cited = composition.text or None, composition.cited
        elif generation is not None:
            text, cited, reasons = self._compose_generated(prepared, generation)
        if text and judgement is not None and judgement.weak:
            reasons.append(flag(Reason.weak_support, f"{judgement.score:.2f}"))
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            corpus = session.get_one(Corpus, answer.corpus_id)
            topic = sensitive_topic(answer.question, corpus.sensitive_topics or [])
            if text and topic:
                reasons.append(topic)
            decision = decide(policy=corpus.review_policy, reasons=reasons, has_answer=bool(text))
            answer.search_query = prepared.standalone
            answer.draft = generation.text if generation else None
            answer.support = judgement.score if judgement else 0.0
            answer.passages = [
                _passage_record(i, p) for i, p in enumerate(prepared.passages, start=1)
            ]
            answer.citations = [answer.passages[n - 1] for n in cited]
            answer.reasons = decision.reasons
            calls = [*prepared.engine_calls, *([generation] if generation else [])]
            if calls:
                answer.prompt_tokens = sum(c.prompt_tokens for c in calls)
                answer.completion_tokens = sum(c.completion_tokens for c in calls)
                answer.model = calls[-1].model
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

    def _compose_generated(
        self, prepared: Prepared, generation: Generation
    ) -> tuple[str | None, list[int], list[dict[str, str]]]:
        """The text the asker may see of the model's draft, its citations, and flags.

        Only sentences a passage sentence supports are kept. When none survives, the
        answer is the extractive one (grounded by construction); a draft that was mostly
        unsupported flags the answer. When what survives leans only on passages other
        than the one holding the best unit, the answer leads with that unit.
        """
        reasons: list[dict[str, str]] = []
        passages = [p.chunk.text for p in prepared.passages]
        draft = generation.text
        if generation.truncated:
            # Cut by the token limit: the unfinished last sentence is never shown.
            draft = draft[: max(draft.rfind(end) for end in ".!?\n") + 1]
            reasons.append(flag(Reason.truncated, str(generation.completion_tokens)))
        checked = check_citations(draft, len(passages))
        if checked.invalid:
            reasons.append(flag(Reason.citation_invalid, " ".join(checked.invalid)))
        grounded = ground_answer(
            _keep_known_links(checked.text, passages),
            passages,
            question=prepared.standalone,
            eligible=self._eligible(prepared),
        )
        extractive = self._extractor(prepared.corpus_name).compose(prepared.candidates)
        if grounded.kept == 0:
            return extractive.text or None, extractive.cited, reasons
        if len(grounded.removed) > grounded.kept:
            reasons.append(flag(Reason.unsupported_sentence, str(len(grounded.removed))))
        text, cited = grounded.text, grounded.cited
        best = extractive.best.n if extractive.best else None
        if best is not None and best not in cited and extractive.text:
            text, cited = f"{extractive.text}\n{text}", [best, *cited]
        return text, cited, reasons

    def _keep_for_agent(self, prepared: Prepared, reason: Reason) -> Answer:
        """The answer cannot be written now (engine down or refusing, a failure): keep
        the question and queue it for a person."""
        with transaction(self._sessions) as session:
            answer = session.get_one(Answer, prepared.answer_id)
            answer.status = AnswerStatus.pending_review
            answer.search_query = prepared.standalone
            answer.passages = [
                _passage_record(i, p) for i, p in enumerate(prepared.passages, start=1)
            ]
            reasons = [flag(reason)]
            answer.reasons = reasons
            answer_repo.enqueue(
                session=session, answer=answer, reasons=reasons, priority=PRIORITY[reason]
            )
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
        "text": chunk.text,
        "score": round(passage.score, 4),
    }


def _keep_known_links(text: str, passages: list[str]) -> str:
    """Drop links the passages do not contain: the model must not invent addresses."""
    known = "\n".join(passages)
    return _URL.sub(lambda m: m.group(0) if m.group(0) in known else "", text)
