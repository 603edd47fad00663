"""Energy per answer: an estimate from the tokens processed and generated.

    energy (Wh) = prompt_tokens / 1000 × Wh per 1,000 prompt tokens
                + completion_tokens / 1000 × Wh per 1,000 completion tokens

The two rates are settings (``energy_wh_per_1k_prompt_tokens``,
``energy_wh_per_1k_completion_tokens``) describing the serving hardware. Their defaults
are this project's CPU figure; docs/energy.md says how it was obtained, gives rough figures
for common GPUs, and lists what the estimate leaves out. It is an estimate, never a
measurement of the answer itself, and the pages say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from babel.numbers import format_decimal

# Embedded vLLM CPU engine serving SmolLM2-135M on 2 vCPUs of an AMD EPYC (Zen 5) VM:
# CPU seconds per 1,000 tokens measured with scripts/measure_energy.py, times 2.8 W per
# busy hardware thread (package TDP / threads). See docs/energy.md.
CPU_WH_PER_1K_PROMPT_TOKENS = 0.0007
CPU_WH_PER_1K_COMPLETION_TOKENS = 0.026


@dataclass(frozen=True)
class EnergyRates:
    """Energy the serving hardware spends per 1,000 tokens, in watt-hours."""

    wh_per_1k_prompt: float = CPU_WH_PER_1K_PROMPT_TOKENS
    wh_per_1k_completion: float = CPU_WH_PER_1K_COMPLETION_TOKENS

    @classmethod
    def from_settings(cls, settings: Any) -> EnergyRates:
        """The configured rates (the defaults while the settings do not define them)."""
        return cls(
            wh_per_1k_prompt=float(
                getattr(settings, "energy_wh_per_1k_prompt_tokens", CPU_WH_PER_1K_PROMPT_TOKENS)
            ),
            wh_per_1k_completion=float(
                getattr(
                    settings,
                    "energy_wh_per_1k_completion_tokens",
                    CPU_WH_PER_1K_COMPLETION_TOKENS,
                )
            ),
        )


def energy_wh(*, prompt_tokens: int, completion_tokens: int, rates: EnergyRates) -> float:
    """Estimated watt-hours for processing ``prompt_tokens`` and generating the rest."""
    if prompt_tokens < 0 or completion_tokens < 0:
        raise ValueError("token counts cannot be negative")
    return (
        prompt_tokens * rates.wh_per_1k_prompt + completion_tokens * rates.wh_per_1k_completion
    ) / 1000


def answer_energy_wh(
    *, prompt_tokens: int | None, completion_tokens: int | None, rates: EnergyRates
) -> float | None:
    """The estimate for one answer, or None when the model produced nothing for it.

    A verified answer served again, or a question declined before generation, costs no
    generation: there is nothing to estimate, so nothing is shown.
    """
    prompt, completion = prompt_tokens or 0, completion_tokens or 0
    if prompt == 0 and completion == 0:
        return None
    return energy_wh(prompt_tokens=prompt, completion_tokens=completion, rates=rates)


class HasTokens(Protocol):
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class AnswerEnergy:
    """The estimate for one answer, in Wh and as people read it (« 1,2 mWh »)."""

    wh: float
    label: str


def energy_of_answer(
    answer: HasTokens, *, rates: EnergyRates, language: str = "fr"
) -> AnswerEnergy | None:
    """What the view model of an answer shows (None when nothing was generated)."""
    wh = answer_energy_wh(
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        rates=rates,
    )
    return None if wh is None else AnswerEnergy(wh=wh, label=format_energy(wh, language))


def format_energy(wh: float, language: str = "fr") -> str:
    """At most two decimals in the unit that reads best (µWh, mWh, Wh or kWh).

    >>> format_energy(0.00123)
    '1,2\xa0mWh'
    >>> format_energy(2500, "en")
    '2.5\xa0kWh'
    """
    if wh < 0:
        raise ValueError("energy cannot be negative")
    value, unit = 0.0, "Wh"
    for scale, name in _UNITS:
        if wh >= scale:
            value, unit = wh / scale, name
            break
    else:
        if wh > 0:
            value, unit = wh / _UNITS[-1][0], _UNITS[-1][1]
    # Whole units from 10 up, one decimal from 1, two significant digits below.
    pattern = "0" if value >= 10 or value == 0 else "0.#" if value >= 1 else "@#"
    text = format_decimal(value, format=pattern, locale=language)
    return f"{text}\u00a0{unit}"


_UNITS = ((1000.0, "kWh"), (1.0, "Wh"), (0.001, "mWh"), (0.000001, "µWh"))
