"""Talking to the administration's SMTP server: one e-mail at a time, with a clear verdict.

A failure says whether trying again later may help (the server is down, busy, or refuses
for now) or not (it refuses the recipient or the message for good); its reason is short,
technical and free of addresses, so it can be logged and shown on the admin page.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from server.settings import Settings

_ADDRESS = re.compile(r"[^\s<>@\"'(),;:]+@[^\s<>@\"'(),;:]+")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str
    timeout_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configured server, or None when e-mail is off (``GUICHET_SMTP_HOST`` unset)."""
        if not settings.smtp_host or not settings.smtp_sender:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_sender,
            timeout_s=settings.smtp_timeout_s,
        )


class SendFailure(Exception):
    """The message was not accepted; ``permanent``: trying again will not help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Letter:
    """One e-mail as queued: recipient, subject, plain text and HTML."""

    to: str
    subject: str
    text: str
    html: str
    language: str
    message_id: str | None = None


def without_addresses(text: str) -> str:
    """``text`` with every e-mail address replaced: server replies often quote them."""
    return _ADDRESS.sub("<adresse>", text)


def build_message(letter: Letter, sender: str) -> EmailMessage:
    """Plain text first, HTML as the alternative; the language declared for readers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = letter.message_id or make_msgid(domain="guichet")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(letter.text)
    message.add_alternative(letter.html, subtype="html")
    # After the content: setting it clears every Content-* header.
    message["Content-Language"] = letter.language
    return message


class SmtpConnection:
    """One connection, opened on first use and reused for the messages of a round."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_s, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        try:
            smtp.ehlo()
            if config.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.user:
                smtp.login(config.user, config.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, letter: Letter) -> None:
        """Hand ``letter`` to the server, or raise :class:`SendFailure`."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.send_message(build_message(letter, self.config.sender))
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = sorted({code for code, _ in error.recipients.values()})
            raise SendFailure(
                f"recipient refused ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raw = error.smtp_error
            detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            reason = without_addresses(f"{error.smtp_code} {detail}".strip())[:300]
            # A message refused for good (5xx on DATA); sign-in and sender refusals are
            # the administration's settings to fix: they are tried again later.
            permanent = isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500
            raise SendFailure(reason, permanent=permanent) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            name = type(error).__name__
            raise SendFailure(
                without_addresses(f"{name}: {error}")[:300], permanent=False
            ) from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
