"""E-mails as people read them: plain text and HTML from the templates of
``web/templates/email/``, in the recipient's language, through the translation catalog.

Every message links to what it is about and says how to change one's notification
settings (or, to a citizen, that their address was forgotten after this message).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.i18n import Translator
from server.notifications.models import MessageKind
from server.settings import PROJECT_ROOT
from server.templating import markdown

EMAIL_TEMPLATES = PROJECT_ROOT / "web" / "templates" / "email"
QUESTION_CHARS = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def shorten(text: str, limit: int = QUESTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Letters:
    """Renders each kind of message; links start with ``base_url``."""

    def __init__(self, *, base_url: str, templates: Path = EMAIL_TEMPLATES) -> None:
        self.base_url = base_url.rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(str(templates)),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["markdown"] = markdown

    def link(self, path: str) -> str:
        return self.base_url + path

    def render(
        self,
        kind: MessageKind,
        *,
        language: str,
        account: bool,
        subject: dict[str, Any] | None = None,
        **context: Any,
    ) -> Rendered:
        """``kind`` in ``language``; ``subject`` fills the subject line's placeholders;
        ``account``: the recipient has an account (and settings to change)."""
        tr = Translator(language)
        values = {
            "t": tr,
            "lang": tr.language,
            "account": account,
            "settings_url": self.link("/account#notifications"),
            "home_url": self.link("/"),
            **context,
        }
        title = tr(f"mail.{kind.value}.subject", **(subject or {}))
        values["subject"] = title
        values["heading"] = title.removeprefix("[Guichet]").strip()
        text = self.env.get_template(f"{kind.value}.txt").render(values)
        html = self.env.get_template(f"{kind.value}.html").render(values)
        return Rendered(subject=title, text=text, html=html)
