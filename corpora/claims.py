"""Who holds a claimed document version: this process, named so that another process on
the same machine can tell at once whether the holder is still alive.

A claim is ``host:pid:start``, ``start`` being the process's start time in clock ticks
since boot (from ``/proc``): a pid reused by a later process does not pass for the holder.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    """The start time of ``pid`` (field 22 of ``/proc/pid/stat``); None when it is gone
    or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


@functools.cache
def _host() -> str:
    return socket.gethostname()[:40]


def this_process() -> str:
    """The claim this process writes (not cached: a forked child is another holder)."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_ticks(pid) or 0}"


def holder_is_gone(claim: str | None) -> bool | None:
    """True when the holder named by ``claim`` no longer runs; None when this machine cannot
    tell (another host, or an older claim without a holder)."""
    if not claim:
        return None
    parts = claim.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return None
    return _start_ticks(int(parts[1])) != parts[2]
