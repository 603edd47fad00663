"""`guichet eval answers`: every question of a dataset through the real answer pipeline.

The dataset's documents are indexed into a corpus of their own; questions another
dataset answers (and this one does not) are mixed in as unanswerable ones, so the
decline / hold behaviour is measured on questions nobody tuned it to.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpora.models import CorpusKind, ReviewPolicy
from corpora.repository import create_corpus, get_corpus
from database import transaction
from retrieval.datasets import EvalSet, Question, load_sets
from retrieval.eval import chunk_files
from review.models import Answer
from server.answers.pipeline import Caller
from server.evaluations.metrics import detail, summarise

log = logging.getLogger(__name__)


def corpus_name(dataset: Path, part: str | None = None) -> str:
    name = dataset.resolve().name + (f"-{part}" if part else "")
    return "eval-" + "".join(c if c.isalnum() else "-" for c in name.lower())


def pick(questions: list[Question], limit: int | None) -> list[Question]:
    """Every n-th question so that a limit still spans the whole dataset."""
    if limit is None or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


async def evaluate_answers(
    *,
    state: Any,
    dataset: Path,
    limit: int | None,
    unanswerable_from: Path | None,
    n_unanswerable: int,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
    details: Path | None = None,
) -> dict[str, Any]:
    """Run the questions through ``state.answers`` and measure what the asker gets.

    Each set of the dataset is indexed into a corpus of its own; questions of another
    dataset (``unanswerable_from``) are asked of the first set as unanswerable ones.
    Follow-ups are asked after their first question, in the same conversation.
    ``details`` receives one JSON line per question (``eval_metrics.detail``).
    """
    sets = await asyncio.to_thread(load_sets, dataset)
    chains: list[tuple[str, list[Question]]] = []
    for number, evalset in enumerate(sets):
        corpus = corpus_name(dataset, evalset.name if len(sets) > 1 else None)
        await asyncio.to_thread(_index_set, state, corpus, evalset)
        questions = [q for q in evalset.questions if q.answerable]
        if limit is not None:
            questions = pick([q for q in questions if not q.follows], limit)
        else:
            questions = [q for q in questions if not q.follows]
        questions += [q for q in evalset.questions if not q.answerable]
        if number == 0 and unanswerable_from is not None:
            foreign = [q for s in load_sets(unanswerable_from) for q in s.questions if q.answerable]
            questions += [
                Question(q.id, q.question, [], [], answerable=False, group="foreign")
                for q in pick(foreign, n_unanswerable)
            ]
        followers = {q.follows: q for q in evalset.questions if q.follows}
        for question in questions:
            chain = [question]
            while chain[-1].id in followers:
                chain.append(followers[chain[-1].id])
            chains.append((corpus, chain))
    total = sum(len(chain) for _, chain in chains)
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def run(corpus: str, chain: list[Question]) -> list[tuple[dict[str, Any], str]]:
        nonlocal done
        asked: list[tuple[dict[str, Any], str]] = []
        conversation: str | None = None
        async with gate:
            for position, question in enumerate(chain):
                answer = await state.answers.ask(
                    corpus=corpus,
                    question=question.question,
                    conversation_id=conversation,
                    caller=Caller(session_id=f"eval-{chain[0].id}"),
                )
                conversation = answer.conversation_id
                row = {**question.as_dict(), "set": corpus, "leads": position < len(chain) - 1}
                asked.append((row, answer.id))
                done += 1
                if progress:
                    progress(done, total)
        return asked

    results = [r for chain in await asyncio.gather(*(run(c, q) for c, q in chains)) for r in chain]
    with state.sessions() as session:
        rows = [(q, session.get_one(Answer, answer_id)) for q, answer_id in results]
        if details is not None:
            with open(details, "w", encoding="utf-8") as handle:
                for row, answer in rows:
                    handle.write(json.dumps(detail(row, answer), ensure_ascii=False) + "\n")
        return summarise(rows, model=state.settings.llm_model, dataset=dataset.resolve().name)


def _index_set(state: Any, corpus: str, evalset: EvalSet) -> None:
    with transaction(state.sessions) as session:
        if get_corpus(session=session, name=corpus) is None:
            create_corpus(
                session=session,
                name=corpus,
                title=evalset.name,
                kind=CorpusKind.procedures,
                review_policy=ReviewPolicy.flagged,
            )
    state.index.replace_documents(corpus=corpus, documents=chunk_files(evalset.documents))
