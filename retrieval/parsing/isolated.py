"""Parsing in a child process, with a time limit and a memory ceiling.

A hostile or merely huge document (a PDF whose images inflate to gigabytes, a DOCX of tens
of megabytes of XML, a scan of hundreds of pages) must not block the indexing worker for
minutes or take the app's memory: each document is parsed in a child forked from a small
fork server (``multiprocessing``'s ``forkserver``, started once, with the parsers already
imported), which is killed when the time is up. The child holds no thread, database
connection or socket of the app.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from retrieval.parsing import ParseError, parse_document
from retrieval.types import ParsedDocument

_context_lock = threading.Lock()
_context: Any = None


@dataclass(frozen=True)
class ParseLimits:
    """Bounds on the work one document may cost (0 turns a bound off)."""

    max_bytes: int
    max_chars: int = 0
    timeout_s: float = 0
    memory_mb: int = 0


def _fork_server() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            # The fork server imports these once; each child starts with them loaded.
            context.set_forkserver_preload(["retrieval.parsing"])
            _context = context
        return _context


def _child(
    connection: Connection, data: bytes, filename: str, limits: ParseLimits
) -> None:  # pragma: no cover - runs in the child process
    if limits.memory_mb:
        ceiling = limits.memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    try:
        document = parse_document(
            data, filename=filename, max_bytes=limits.max_bytes, max_chars=limits.max_chars
        )
        connection.send(("ok", document))
    except ParseError as error:
        connection.send(("error", error.code, error.detail))
    except MemoryError:
        connection.send(("error", "parser_crashed", "out of memory"))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which records it
        connection.send(("error", "parser_crashed", type(error).__name__))
    finally:
        connection.close()


def parse_isolated(data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
    """:func:`parse_document` in a child process; ParseError("timeout") when it runs past
    ``limits.timeout_s``, ParseError("parser_crashed") when it dies without an answer."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = _fork_server().Process(
        target=_child, args=(sending, data, filename, limits), name="guichet-parse", daemon=True
    )
    process.start()
    sending.close()
    try:
        if not receiving.poll(limits.timeout_s or None):
            raise ParseError("timeout", filename, f"parsing took over {limits.timeout_s:.0f} s")
        try:
            outcome = receiving.recv()
        except (EOFError, OSError) as error:
            raise ParseError("parser_crashed", filename, "the parser died") from error
    finally:
        receiving.close()
        if process.is_alive():
            process.kill()
        process.join(10)
        with contextlib.suppress(ValueError):  # still running: the kernel will reap it
            process.close()
    if outcome[0] == "ok":
        document: ParsedDocument = outcome[1]
        return document
    raise ParseError(outcome[1], filename, outcome[2])
