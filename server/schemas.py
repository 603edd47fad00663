"""Bodies every part of the API shares: the error shape, the health checks, path ids."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel

# Ids in paths stay within the databases' 32-bit integers (larger ones are simply unknown).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with its description, as ``ErrorOut``."""
    return {code: {"model": ErrorOut, "description": text} for code, text in descriptions.items()}


class HealthOut(BaseModel):
    status: Literal["ok"]


class EngineOut(BaseModel):
    """The embedded engine as its supervisor sees it (absent for an external engine)."""

    state: Literal["running", "restarting", "stopped"]
    restarts: int
    last_exit_code: int | None = None
    next_attempt_in_s: float | None = None


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool]
    down: list[str]
    engine: EngineOut | None = None


_REFUSALS = {
    400: "The request breaks a rule (see the error code)",
    403: "Not allowed",
    404: "Not found",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """:func:`error_responses` with the usual wording of 400, 403 and 404."""
    return error_responses({code: _REFUSALS[code] for code in codes})
