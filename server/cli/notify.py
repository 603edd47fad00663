"""`guichet notify test ADDRESS`: is the administration's SMTP server reachable from here?"""

from __future__ import annotations

from typing import Annotated

import typer

from accounts.contact import clean_address, mask_address
from accounts.errors import AccountError
from server.cli.common import console, database, fail, load_settings, notify_app, tr
from server.notifications.letters import Letters
from server.notifications.mailer import SmtpConfig
from server.notifications.models import MessageState
from server.notifications.worker import send_test


@notify_app.command("test")
def notify_test(
    address: str,
    language: Annotated[str, typer.Option(help="Langue du message : fr ou en.")] = "fr",
) -> None:
    """Envoie un message d'essai à ADRESSE, tout de suite, et dit s'il est parti."""
    settings = load_settings()
    smtp = SmtpConfig.from_settings(settings)
    if smtp is None:
        raise fail(tr("cli.email_off"))
    try:
        to = clean_address(address)
    except AccountError as error:
        raise fail(tr(f"error.{error.code}")) from error
    if to is None:
        raise fail(tr("error.invalid_email"))
    with database(settings) as sessions:
        message = send_test(
            sessions=sessions,
            letters=Letters(base_url=settings.base_url),
            smtp=smtp,
            address=to,
            language=language if language in ("fr", "en") else "fr",
        )
    if message.state != MessageState.sent:
        raise fail(tr("cli.test_failed", server=smtp.host, reason=message.last_error or "?"))
    console.print(tr("cli.test_sent", to=mask_address(to), server=smtp.host))
