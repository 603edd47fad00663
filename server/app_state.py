"""Access to the per-process state from a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from server.energy import EnergyRates

if TYPE_CHECKING:
    from server.app import AppState


def state_of(request: Request) -> AppState:
    return request.app.state.guichet


def energy_rates(request: Request) -> EnergyRates:
    """The configured energy per token, for the estimate shown under answers."""
    return EnergyRates.from_settings(state_of(request).settings)
