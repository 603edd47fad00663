"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd), that keeps what it receives.

It can be stopped and started again on the same port, as an administration's server that
goes down for a while; it can refuse chosen recipients for good (550) or for now (451).
"""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.server.refused:
            return "550 5.1.1 <" + address + ">: mailbox unavailable"
        if address in self.server.busy:
            return "451 4.3.0 <" + address + ">: try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self.server.lock:
            self.server.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """``start()``, ``stop()``, ``start()`` again: same port, same inbox."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refused: set[str] = set()  # recipients refused for good (550)
        self.busy: set[str] = set()  # recipients refused for now (451)
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def messages(self, to: str | None = None) -> list[Received]:
        with self.lock:
            return [m for m in self.received if to is None or to in m.recipients]

    def wait_for(self, to: str, count: int = 1, timeout_s: float = 30) -> list[Received]:
        """The messages to ``to`` once there are ``count`` of them (polling)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.messages(to)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) to {to} not received in {timeout_s} s")

    def settings(self) -> dict[str, object]:
        """The ``Settings`` fields that point an app at this server."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_sender": "Guichet <guichet@mairie.test>",
            "smtp_timeout_s": 5.0,
        }
