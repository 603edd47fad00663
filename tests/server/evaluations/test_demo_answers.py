"""The demo questions through the whole answer pipeline, with the real engine.

`guichet eval answers corpora/demo` measures what a citizen or a student gets: whether each
released answer states the expected answer, whether it reads soundly, whether questions
the documents do not cover are turned away. This test keeps those figures from sliding
back; the targets the product aims at, and where it stands, are in docs/answers.md.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from server.engine.process import EmbeddedEngine
from server.evaluations.service import evaluate_answers
from server.settings import PROJECT_ROOT
from server.state import build_state
from tests.conftest import make_settings
from tests.storage import Storage

pytestmark = [pytest.mark.engine, pytest.mark.slow]
DEMO = PROJECT_ROOT / "corpora" / "demo"


def test_demo_answers_are_right_or_held_and_read_soundly(
    tmp_path: Path, storage: Storage, embedded_engine: EmbeddedEngine
) -> None:
    settings = make_settings(
        tmp_path / "data",
        llm_base_url=embedded_engine.base_url,
        llm_model=embedded_engine.served_model_name,
        **storage.settings(),
    )
    state = build_state(settings)
    details = tmp_path / "details.jsonl"

    async def run() -> dict:
        try:
            return await evaluate_answers(
                state=state,
                dataset=DEMO,
                limit=None,
                unanswerable_from=None,
                n_unanswerable=0,
                concurrency=4,
                details=details,
            )
        finally:
            await state.llm.aclose()

    try:
        figures = asyncio.run(run())
    finally:
        state.db.dispose()
    main, uncovered = figures["groups"]["main"], figures["groups"]["uncovered"]
    informal = figures["groups"]["informal"]
    assert main["n"] == 40 and uncovered["n"] >= 30
    assert figures["garbled"] == 0, details.read_text(encoding="utf-8")
    # Measured 0.725 and 0.033 (1 of 30 released, 3 December): the targets are
    # 0.7 and 0.05 (docs/answers.md). The main questions involve no model choice here, so
    # the figures do not vary between runs.
    assert main["answer_hit"] >= 0.7, figures
    assert main["wrong_released"] <= 0.05, figures
    # Measured 0.952 (40 of the 42 questions the documents do not cover): the 0.9.
    assert uncovered["declined_or_held"] >= 0.9, figures
    # Everyday wording (slang, typos, no accents) is never turned away as « not covered ».
    assert informal["declined"] == 0, figures
    # Citizens' questions written apart, by a hand that read only the pages: right or
    # silent there too. Measured 0 wrong of 10 released, 6 of 6 uncovered held (3 Dec.).
    citizen, beyond = figures["groups"]["citizen"], figures["groups"]["citizen_uncovered"]
    assert citizen["n"] == 24 and citizen["wrong_released"] <= 0.1, figures
    assert beyond["declined_or_held"] >= 0.9, figures
    # The follow-up: « et pour un passeport ? » after the identity card is
    # answered on the passport or not at all (released on the card until 3 December).
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    passport = next(r for r in rows if r["question"] == "et pour un passeport ?")
    assert passport["status"] != "released" or passport["states_expected"], passport
    # Every question has a line a person can read, with what was answered and cited.
    assert (
        len(details.read_text(encoding="utf-8").splitlines())
        == figures["n_answerable"] + (figures["n_unanswerable"])
    )
