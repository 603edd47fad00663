"""The energy estimate: its arithmetic, its settings, and how an answer shows it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from server.answers.energy import (
    CPU_WH_PER_1K_COMPLETION_TOKENS,
    CPU_WH_PER_1K_PROMPT_TOKENS,
    EnergyRates,
    answer_energy_wh,
    energy_of_answer,
    energy_wh,
    format_energy,
)
from server.i18n import Translator
from server.settings import PROJECT_ROOT
from server.templating import make_templates

GPU = EnergyRates(wh_per_1k_prompt=0.02, wh_per_1k_completion=0.5)


def test_energy_is_tokens_times_rates() -> None:
    # 2,000 prompt tokens × 0.02 Wh/1k + 300 completion tokens × 0.5 Wh/1k = 0.04 + 0.15
    assert energy_wh(prompt_tokens=2000, completion_tokens=300, rates=GPU) == pytest.approx(0.19)
    assert energy_wh(prompt_tokens=0, completion_tokens=0, rates=GPU) == 0


def test_energy_is_linear_in_each_token_count() -> None:
    one = energy_wh(prompt_tokens=700, completion_tokens=90, rates=GPU)
    double = energy_wh(prompt_tokens=1400, completion_tokens=180, rates=GPU)
    assert double == pytest.approx(2 * one)
    prompt_only = energy_wh(prompt_tokens=700, completion_tokens=0, rates=GPU)
    completion_only = energy_wh(prompt_tokens=0, completion_tokens=90, rates=GPU)
    assert prompt_only + completion_only == pytest.approx(one)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        energy_wh(prompt_tokens=-1, completion_tokens=0, rates=GPU)
    with pytest.raises(ValueError):
        format_energy(-0.1)


def test_nothing_generated_means_no_estimate() -> None:
    assert answer_energy_wh(prompt_tokens=0, completion_tokens=0, rates=GPU) is None
    assert answer_energy_wh(prompt_tokens=None, completion_tokens=None, rates=GPU) is None
    assert answer_energy_wh(prompt_tokens=1000, completion_tokens=0, rates=GPU) == 0.02


def test_rates_come_from_the_settings_with_the_cpu_defaults() -> None:
    assert EnergyRates.from_settings(SimpleNamespace()) == EnergyRates(
        CPU_WH_PER_1K_PROMPT_TOKENS, CPU_WH_PER_1K_COMPLETION_TOKENS
    )
    configured = SimpleNamespace(
        energy_wh_per_1k_prompt_tokens=0.02, energy_wh_per_1k_completion_tokens=0.5
    )
    assert EnergyRates.from_settings(configured) == GPU
    # Generating costs more than reading, per token, on any hardware.
    assert CPU_WH_PER_1K_COMPLETION_TOKENS > CPU_WH_PER_1K_PROMPT_TOKENS > 0


@pytest.mark.parametrize(
    ("wh", "fr", "en"),
    [
        (0, "0\u00a0Wh", "0\u00a0Wh"),
        (0.0000042, "4,2\u00a0µWh", "4.2\u00a0µWh"),
        (0.00123, "1,2\u00a0mWh", "1.2\u00a0mWh"),
        (0.0153, "15\u00a0mWh", "15\u00a0mWh"),
        (0.19, "190\u00a0mWh", "190\u00a0mWh"),
        (1.0, "1\u00a0Wh", "1\u00a0Wh"),
        (2500, "2,5\u00a0kWh", "2.5\u00a0kWh"),
    ],
)
def test_energy_reads_in_the_best_unit(wh: float, fr: str, en: str) -> None:
    assert format_energy(wh, "fr") == fr
    assert format_energy(wh, "en") == en


def test_an_answer_gets_its_estimate_and_label() -> None:
    answer = SimpleNamespace(prompt_tokens=2000, completion_tokens=300)
    energy = energy_of_answer(answer, rates=GPU, language="fr")
    assert energy is not None
    assert energy.wh == pytest.approx(0.19)
    assert energy.label == "190\u00a0mWh"
    assert (
        energy_of_answer(SimpleNamespace(prompt_tokens=0, completion_tokens=0), rates=GPU) is None
    )


def _render_answer(**view: object) -> str:
    env = make_templates(PROJECT_ROOT / "web" / "templates").env
    answer = SimpleNamespace(
        answer_id="a1",
        status="released",
        question="Q ?",
        answer="Réponse [1].",
        citations=[],
        message=None,
        **view,
    )
    return env.get_template("_answer.html").render(
        request=None, t=Translator("fr"), lang="fr", answer=answer
    )


def test_a_released_answer_shows_its_estimate_discreetly() -> None:
    html = _render_answer(energy_wh=0.00123, energy_label="1,2\u00a0mWh")
    assert '<p class="energy">' in html
    assert "1,2\u00a0mWh" in html
    assert 'href="/transparence#energie"' in html


def test_no_estimate_no_line() -> None:
    assert 'class="energy"' not in _render_answer()
    assert 'class="energy"' not in _render_answer(energy_wh=None, energy_label=None)
