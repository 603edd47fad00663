"""The one error type of parsing, carrying a machine code (never user-facing text)."""

from __future__ import annotations


class ParseError(Exception):
    """A file could not be turned into text.

    ``code`` is one of: ``unsupported_format``, ``corrupt``, ``empty``, ``too_large``,
    ``no_text_layer``, ``archive_too_large``, ``encrypted``, ``too_much_text``,
    ``too_many_chunks``, ``timeout``, ``parser_crashed``. ``detail`` is for logs and
    developers; the server maps ``code`` to a translated message.
    """

    def __init__(self, code: str, filename: str, detail: str = "") -> None:
        super().__init__(f"{code}: {filename}: {detail}")
        self.code = code
        self.filename = filename
        self.detail = detail
