"""Templates: the Jinja environment, its filters, and rendering a page or a partial.

Filters are presentation only, always escaping or sanitising before adding markup.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import nh3
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.i18n import Translator
from server.navigation import Navigation, navigation_of
from server.security.sessions import session_user

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


# What Markdown from documents, answers and reviewers may become: text structure only.
# No raw HTML (the parser escapes it), no images, no styles, links that cannot run script.
_ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "blockquote",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h3",
    "h4",
    "h5",
    "h6",
}


@cache
def _parser() -> MarkdownIt:
    # "commonmark" + tables; html=False: HTML written in a document is shown as text.
    # breaks: a single line break in a document is one in the page too.
    return MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(
        "table"
    )


def markdown(text: str | None) -> Markup:
    """Markdown rendered as sanitised HTML (answers, excerpts, document passages).

    Headings become at most ``h3`` so that the page's own outline stays right.
    """
    if not text:
        return Markup("")
    html = _parser().render(re.sub(r"^#{1,2}(?=\s)", "###", text, flags=re.M))
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


def answer_html(text: str | None, anchor_prefix: str) -> Markup:
    """An answer as HTML: its Markdown rendered, each ``[n]`` a link to source n."""
    html = str(markdown(text))
    return Markup(
        _MARKER.sub(
            lambda m: f'<a class="cite" href="#{anchor_prefix}-{m.group(1)}">[{m.group(1)}]</a>',
            html,
        )
    )


def plain_text(text: str | None) -> str:
    """A passage without its Markdown syntax, for short excerpts (cut anywhere safely)."""
    from retrieval.units import split_units

    return " ".join(unit.text for unit in split_units(text or ""))


def navigation(request: Request) -> dict[str, Any]:
    """The context processor: ``nav`` for the person behind the request's session."""
    if "hx-request" in request.headers:
        return {}  # partials have no header: no query for them (a route may pass its own)
    guichet = getattr(request.app.state, "guichet", None)
    if "session" not in request.scope or guichet is None:
        return {"nav": Navigation()}
    with guichet.sessions() as session:
        return {"nav": navigation_of(session=session, user=session_user(request, session))}


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory), context_processors=[navigation])
    templates.env.filters["cite_links"] = cite_links
    templates.env.filters["answer_html"] = answer_html
    templates.env.filters["markdown"] = markdown
    templates.env.filters["plain_text"] = plain_text
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
