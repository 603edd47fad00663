"""What accounts and permissions refuse, as plain exceptions server/errors.py maps to HTTP."""

from __future__ import annotations


class AccountError(Exception):
    """A request about accounts that cannot be honoured; ``code`` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotAllowed(Exception):
    """The caller may not do this: nobody is signed in (``signed_in`` False), or the
    signed-in caller lacks the right. ``code`` is the catalog key suffix of the message."""

    def __init__(self, code: str, *, signed_in: bool) -> None:
        super().__init__(code)
        self.code = code
        self.signed_in = signed_in
