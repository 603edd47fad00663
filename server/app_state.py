"""Access to the per-process state from a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from server.app import AppState


def state_of(request: Request) -> AppState:
    return request.app.state.guichet  # type: ignore[no-any-return]
