"""What the engine is asked for an answer: a follow-up made to stand alone, the unit it
prefers, or a draft whose sentences are checked one by one as they come.

Every call has a fallback in code: the rule-based follow-up, the code's choice of units,
the extractive answer. The engine's own judgement is never trusted for grounding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable

from langchain_core.messages import BaseMessage

from review.coverage import CoverageRule, judge
from review.extractive import Candidate, Composition
from review.grounding import SentenceSplitter, check_citations, ground_answer
from review.policy import Reason, flag
from server.answers.asking import Prepared
from server.answers.fitting import Fitted, PassageText, fit
from server.answers.followups import FollowUps
from server.answers.prompts import (
    answer_messages,
    choice_messages,
    citation_regex,
    condense_messages,
    passage_block,
)
from server.engine.client import EngineUnavailable, Generation, LLMClient

log = logging.getLogger(__name__)
_URL = re.compile(r"https?://[^\s)\]]+")
CHOICES = 4  # units the model may choose among
MAX_REWRITE_TOKENS = 80


class Drafter:
    """The engine's part of an answer; ``coverage`` says which passages may support a
    sentence of the model."""

    def __init__(self, *, llm: LLMClient, followups: FollowUps, coverage: CoverageRule) -> None:
        self._llm = llm
        self._followups = followups
        self._coverage = coverage

    async def standalone(self, prepared: Prepared, *, headed: Callable[[str], bool]) -> str:
        """The follow-up made to stand alone (the model's rewrite if usable, else a rule);
        ``headed`` tells the terms some heading of the corpus holds."""
        previous = prepared.previous or ""
        question = prepared.written or prepared.question  # « et pr un passeport ? » read out
        if not self._followups.is_followup(question):
            return question
        try:
            generation = await self._llm.generate(
                condense_messages(
                    history=[(previous, "")], question=question, language=prepared.language
                ),
                max_tokens=MAX_REWRITE_TOKENS,
            )
            prepared.engine_calls.append(generation)
            rewrite = generation.text.strip().splitlines()[0] if generation.text.strip() else ""
        except EngineUnavailable as error:
            log.info("answer %s: follow-up rewritten by rule (%s)", prepared.answer_id, error)
            rewrite = ""
        if rewrite and self._followups.usable(rewrite, question=question, previous=previous):
            return rewrite
        return self._followups.by_rule(
            question, previous, titles=prepared.previous_titles, headed=headed
        )

    async def choose(self, prepared: Prepared) -> Candidate | None:
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
                    corpus_title=prepared.corpus.title,
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
        if picked.isdigit() and 0 < int(picked) <= len(shortlist):
            return shortlist[int(picked) - 1]
        return None

    async def generate(
        self, prepared: Prepared, *, lead: Composition | None = None
    ) -> AsyncIterator[tuple[str, Generation]]:
        """Stream the model's draft; yield each sentence once checked (or "" between).

        The prompt is fitted to the engine's window first (``server.answers.fitting``); a
        draft cut by the token limit loses its unfinished last sentence.
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
        splitter = SentenceSplitter()
        texts = [p.chunk.text for p in prepared.passages]
        seen = _shown(lead, texts, question=prepared.standalone)
        eligible = self.eligible(prepared)
        async for delta, generation in self._llm.stream(
            fitted.messages, regex=citation_regex(fitted.kept), max_tokens=fitted.max_tokens
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
                    keep_known_links(checked, texts),
                    texts,
                    question=prepared.standalone,
                    eligible=eligible,
                    seen=seen,
                )
                if grounded.kept:
                    yield grounded.text, generation

    def compose(
        self, prepared: Prepared, generation: Generation, extractive: Composition
    ) -> tuple[str | None, list[int], list[dict[str, str]]]:
        """The text the asker may see of the model's draft, its citations, and flags.

        Only sentences a passage sentence supports are kept. When none survives, the
        answer is the extractive one (grounded by construction); a draft that was mostly
        unsupported flags the answer. When what survives leans only on passages other
        than the one holding the best unit, the answer leads with the extractive one.
        The answer opens with the best unit (``Composition.lead``), streamed before the
        draft; the model's sentences that repeat it are not shown twice.
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
        lead = extractive.lead()
        grounded = ground_answer(
            keep_known_links(checked.text, passages),
            passages,
            question=prepared.standalone,
            eligible=self.eligible(prepared),
            seen=_shown(lead, passages, question=prepared.standalone),
        )
        if grounded.kept == 0:
            return extractive.text or None, extractive.cited, reasons
        if len(grounded.removed) > grounded.kept:
            reasons.append(flag(Reason.unsupported_sentence, str(len(grounded.removed))))
        if not lead.text:
            return grounded.text, grounded.cited, reasons
        cited = list(dict.fromkeys([*lead.cited, *grounded.cited]))
        return f"{lead.text}\n{grounded.text}", cited, reasons

    def eligible(self, prepared: Prepared) -> set[int]:
        """Passages (1-based) that cover the question by themselves (the coverage rule
        applied to their own units): only they may support a sentence of the model."""
        by_passage: dict[int, list[Candidate]] = {}
        for candidate in prepared.candidates:
            by_passage.setdefault(candidate.n, []).append(candidate)
        return {n for n, units in by_passage.items() if judge(units, self._coverage).covered}

    async def _fit(self, prepared: Prepared) -> Fitted:
        """The answer prompt, cut to the engine's window (best units of each passage)."""
        build: Callable[[list[str]], list[BaseMessage]] = lambda texts: answer_messages(  # noqa: E731
            corpus_title=prepared.corpus.title,
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


def keep_known_links(text: str, passages: list[str]) -> str:
    """Drop links the passages do not contain: the model must not invent addresses."""
    known = "\n".join(passages)
    return _URL.sub(lambda m: m.group(0) if m.group(0) in known else "", text)


def _shown(lead: Composition | None, passages: list[str], *, question: str) -> set[str]:
    """The sentences the answer opens with, as ``ground_answer`` remembers them: the
    model's sentences that repeat them are not shown twice, streamed or stored."""
    seen: set[str] = set()
    if lead is not None and lead.text:
        ground_answer(lead.text, passages, question=question, seen=seen)
    return seen
