"""Jinja filters: presentation only, always escaping before adding markup."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_MARKER = re.compile(r"\[(\d{1,2})\]")


def cite_links(text: str, anchor_prefix: str) -> Markup:
    """Escape the answer, then turn each ``[n]`` into a link to source n of the list."""
    escaped = str(escape(text))
    return Markup(
        _MARKER.sub(
            lambda m: f'<a class="cite" href="#{anchor_prefix}-{m.group(1)}">[{m.group(1)}]</a>',
            escaped,
        )
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def anchor(value: str) -> str:
    """An HTML id and URL fragment that needs no escaping (chunk ids contain ``@`` and ``#``)."""
    return _UNSAFE.sub("-", value)
