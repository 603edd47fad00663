"""Templates: the Jinja environment, its filters, and rendering a page or a partial.

Filters are presentation only, always escaping before adding markup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.i18n import Translator

_MARKER = re.compile(r"\[(\d{1,2})\]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def cite_links(text: str, anchor_prefix: str) -> Markup:
    """Escape the answer, then turn each ``[n]`` into a link to source n of the list."""
    escaped = str(escape(text))
    return Markup(
        _MARKER.sub(
            lambda m: f'<a class="cite" href="#{anchor_prefix}-{m.group(1)}">[{m.group(1)}]</a>',
            escaped,
        )
    )


def anchor(value: str) -> str:
    """An HTML id and URL fragment that needs no escaping (chunk ids contain ``@`` and ``#``)."""
    return _UNSAFE.sub("-", value)


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    templates.env.filters["cite_links"] = cite_links
    templates.env.filters["anchor"] = anchor
    return templates


def render(
    request: Request, template: str, tr: Translator, /, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` with the translator and the language in its context."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, {"t": tr, "lang": tr.language, **context}, status_code=status_code
    )


def render_fragment(request: Request, template: str, tr: Translator, /, **context: Any) -> str:
    """A partial as a string (an answer sent inside a server-sent event)."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.get_template(template).render(
        request=request, t=tr, lang=tr.language, **context
    )
