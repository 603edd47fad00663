"""What `guichet eval answers` measures: what the asker got, not only what was cited.

``answer_hit`` is the share of answerable questions released with an answer that states
the dataset's expected answer; ``wrong_released`` the share of released answers to
answerable questions that do not; ``garbled`` the share of released answers that read
badly (``review.quality``). The citation figures of earlier versions are kept beside them.

When does an answer *state* the expected answer? Both are compared after folding case and
accents, writing « euros » as « € », French numbers in one form (« 30 000 » = « 30000 »,
« 3,00 » = « 3 »), and dropping spaces and punctuation. An expected answer found whole in
the answer is stated. Otherwise it is cut into its sentences and list lines, and those of
fewer than 4 words (« Oui. », « Non. ») are set aside: a short expected answer (up to 25
words) is stated when the answer holds all its other sentences; a long one (a whole FAQ
entry) when the answer holds one of its sentences of at least 8 words, or when one of the
answer's sentences of at least 8 words is part of it — an extract of the right entry
says what the entry says, a sentence of another entry does not.

The first version of this rule had no « fewer than 4 words » clause: it counted as wrong
every answer quoting « La plupart des smartphones… » for an expected « Oui. La plupart
des smartphones… ». It was corrected once, for that, after reading the details of the
first run on cnil-faq (docs/answers.md).

For generated answers, ``dropped_sentences`` counts the sentences of the model's draft that
the asker did not get (the grounding left them out), and ``false_drops`` those of them that
state the expected answer: good prose the checks punished.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from review.models import Answer, AnswerStatus
from review.quality import problems

LONG_ANSWER_WORDS = 25
MIN_SENTENCE_WORDS = 8
MIN_PIECE_WORDS = 4
_MARKER = re.compile(r"\[(\d{1,3})\]")
_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3}(?:[  .]\d{3})+)(?![\d])")
_DECIMAL = re.compile(r"(\d+)[.,](\d+)")
_EURO = re.compile(r"\beuros?\b")
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_PIECES = re.compile(r"(?<=[.!?…;])\s+|\n+")


def normalise(text: str) -> str:
    """The comparable form of a text (see the module docstring)."""
    text = _MARKER.sub(" ", text.replace("’", "'"))
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _EURO.sub("€", text)
    text = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group(1)), text)

    def decimal(match: re.Match[str]) -> str:
        fraction = match.group(2).rstrip("0")
        return match.group(1) + (f"d{fraction}" if fraction else "")

    text = _DECIMAL.sub(decimal, text)
    return re.sub(r"[^a-z0-9€%]", "", text)


def states(answer: str, expected: str) -> bool:
    """True when ``answer`` states ``expected`` (rule in the module docstring)."""
    wanted = normalise(expected)
    if not wanted:
        return False
    said = normalise(answer)
    if wanted in said:
        return True
    pieces = [p for p in _PIECES.split(expected) if len(p.split()) >= MIN_PIECE_WORDS]
    if not pieces:
        return False
    if len(expected.split()) <= LONG_ANSWER_WORDS:
        return all(normalise(p) in said for p in pieces)
    if any(len(p.split()) >= MIN_SENTENCE_WORDS and normalise(p) in said for p in pieces):
        return True
    return any(
        len(sentence.split()) >= MIN_SENTENCE_WORDS and normalise(sentence) in wanted
        for sentence in _SENTENCES.split(_MARKER.sub("", answer))
    )


def states_any(answer: str | None, expected: Iterable[str]) -> bool:
    return bool(answer) and any(states(answer or "", e) for e in expected)


def garbling(answer: Answer) -> list[str]:
    """Why a released answer reads badly (empty when it reads soundly)."""
    passages = answer.passages or []
    known = [answer.question, *[p.get("text") or p.get("excerpt", "") for p in passages]]
    return [f"{p.code}: {p.detail}" for p in problems(answer.text or "", known=known)]


def dropped(answer: Answer) -> list[str]:
    """The sentences of the model's draft that are not in what the asker got."""
    shown = normalise(answer.text or "")
    sentences = (s.strip() for s in _SENTENCES.split(answer.draft or ""))
    return [s for s in sentences if normalise(s) and normalise(s) not in shown]


def false_drops(answer: Answer, expected: Iterable[str]) -> list[str]:
    """Dropped sentences that state the expected answer."""
    wanted = list(expected)
    return [s for s in dropped(answer) if any(states(s, e) for e in wanted)]


def _share(items: list[Any], test: Callable[[Any], bool]) -> float | None:
    return round(sum(map(test, items)) / len(items), 4) if items else None


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


Row = tuple[dict[str, Any], Answer]


def summarise(rows: list[Row], *, model: str, dataset: str) -> dict[str, Any]:
    """The figures of one run; ``rows`` pair each question (``Question.as_dict``) with
    its stored answer."""
    answerable = [(q, a) for q, a in rows if q.get("answerable", True)]
    unanswerable = [(q, a) for q, a in rows if not q.get("answerable", True)]
    with_expected = [(q, a) for q, a in answerable if q.get("answers")]
    released = [(q, a) for q, a in rows if a.status == AnswerStatus.released]
    released_expected = [(q, a) for q, a in with_expected if a.status == AnswerStatus.released]
    held = (AnswerStatus.pending_review,)

    def hit(qa: Row) -> bool:
        return qa[1].status == AnswerStatus.released and states_any(qa[1].text, qa[0]["answers"])

    def cites_gold(question: dict[str, Any], answer: Answer) -> bool:
        gold = set(question.get("doc_ids") or [])
        return any(str(c.get("document_id")) in gold for c in answer.citations)

    markers = valid = shown_markers = shown_valid = 0
    for _, answer in rows:
        found = [int(n) for n in _MARKER.findall(answer.draft or "")]
        markers += len(found)
        valid += sum(1 <= n <= len(answer.passages) for n in found)
        shown = [int(n) for n in _MARKER.findall(answer.text or "")]
        shown_markers += len(shown)
        shown_valid += sum(1 <= n <= len(answer.passages) for n in shown)
    drafted = [(q, a) for q, a in rows if a.draft]
    ttft = [a.ttft_ms for _, a in rows if a.ttft_ms is not None]
    total = [a.total_ms for _, a in rows if a.total_ms is not None]
    figures: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_with_expected_answer": len(with_expected),
        "answer_hit": _share(with_expected, hit),
        "wrong_released": _share(released_expected, lambda qa: not hit(qa)),
        "garbled": _share(released, lambda qa: bool(garbling(qa[1]))),
        "citation_validity": round(valid / markers, 4) if markers else 1.0,
        "citation_validity_shown": round(shown_valid / shown_markers, 4) if shown_markers else 1.0,
        "markers": markers,
        "source_hit": _share(
            [qa for qa in answerable if qa[0].get("doc_ids")],
            lambda qa: qa[1].status in (AnswerStatus.released, *held) and cites_gold(*qa),
        ),
        "released_answerable": _share(answerable, lambda qa: qa[1].status == AnswerStatus.released),
        "held_answerable": _share(answerable, lambda qa: qa[1].status in held),
        "declined_answerable": _share(answerable, lambda qa: qa[1].status == AnswerStatus.declined),
        "declined_or_held_unanswerable": _share(
            unanswerable, lambda qa: qa[1].status in (AnswerStatus.declined, *held)
        ),
        "drafted": len(drafted),
        "model_sentences": sum(
            sum(1 for s in _SENTENCES.split(a.draft or "") if normalise(s)) for _, a in drafted
        ),
        "dropped_sentences": sum(len(dropped(a)) for _, a in drafted),
        "false_drops": sum(len(false_drops(a, q.get("answers") or [])) for q, a in drafted),
        "answers_with_false_drop": sum(
            1
            for q, a in drafted
            if false_drops(a, q.get("answers") or []) and not states_any(a.text, q["answers"])
        ),
        "p50_ttft_ms": _percentile(ttft, 50),
        "p95_ttft_ms": _percentile(ttft, 95),
        "p50_total_ms": _percentile(total, 50),
    }
    groups = sorted({q.get("group", "main") for q, _ in rows})
    if len(groups) > 1:
        figures["groups"] = {
            group: _group_figures([(q, a) for q, a in rows if q.get("group", "main") == group], hit)
            for group in groups
        }
    return figures


def _group_figures(rows: list[Row], hit: Callable[[Row], bool]) -> dict[str, Any]:
    answerable = [(q, a) for q, a in rows if q.get("answerable", True)]
    if rows and not answerable:
        return {
            "n": len(rows),
            "declined_or_held": _share(
                rows,
                lambda qa: qa[1].status in (AnswerStatus.declined, AnswerStatus.pending_review),
            ),
        }
    asked = [(q, a) for q, a in answerable if not q.get("leads")]
    with_expected = [(q, a) for q, a in asked if q.get("answers")]
    released = [(q, a) for q, a in with_expected if a.status == AnswerStatus.released]
    return {
        "n": len(asked),
        "answer_hit": _share(with_expected, hit),
        "wrong_released": _share(released, lambda qa: not hit(qa)),
        "declined": _share(asked, lambda qa: qa[1].status == AnswerStatus.declined),
        "held": _share(asked, lambda qa: qa[1].status == AnswerStatus.pending_review),
    }


def detail(question: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """One line of ``--details``: everything a person needs to judge the answer."""
    return {
        "id": question["id"],
        "set": question.get("set"),
        "group": question.get("group", "main"),
        "question": question["question"],
        "expected": question.get("answers") or [],
        "status": str(answer.status),
        "answer": answer.text,
        "states_expected": states_any(answer.text, question.get("answers") or []),
        "garbled": garbling(answer) if answer.status == AnswerStatus.released else [],
        "citations": [
            {k: c.get(k) for k in ("n", "document_id", "title", "section")}
            for c in answer.citations or []
        ],
        "reasons": [r.get("code") for r in answer.reasons or []],
        "search_query": answer.search_query,
        "dropped": dropped(answer),
        "false_drops": false_drops(answer, question.get("answers") or []),
        "support": answer.support,
    }
