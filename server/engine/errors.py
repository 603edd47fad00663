"""What goes wrong with the embedded engine, with a stable code and what a person needs."""

from __future__ import annotations


class EngineError(Exception):
    """The embedded engine could not be prepared, started or reached.

    ``code`` is a stable machine-readable reason (``not_prepared``, ``vllm_missing``,
    ``port_in_use``, ``crashed``, ``timeout``, ``prepare_failed``, ``unknown_model``,
    ``checksum_mismatch``); ``detail`` carries
    what a human needs to fix it (for ``crashed``, the last lines of the engine's log).
    """

    def __init__(self, code: str, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        return f"{text}\n{self.detail}" if self.detail else text
