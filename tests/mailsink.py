"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can be stopped and started."""

from __future__ import annotations

import email
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default)  # type: ignore[return-value]


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address in self.sink.refused:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.sink.closing:
            return "421 4.3.2 Service shutting down, closing the session"
        if address in self.sink.dropping:
            server.transport.close()  # the connection breaks without an answer
            return "250 OK"
        if address in self.sink.deferred:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"


class MailSink:
    """``smtputf8`` says whether the server offers SMTPUTF8 (most relays do not; aiosmtpd neither by
    default, and it is given explicitly here so the tests say what they rely on)."""

    def __init__(self, port: int, *, smtputf8: bool = False) -> None:
        self.port = port
        self.smtputf8 = smtputf8
        self.received: list[Received] = []
        self.refused: set[str] = set()  # recipients answered with 550
        self.deferred: set[str] = set()  # recipients answered with 450
        self.closing: set[str] = set()  # recipients answered with 421 (the whole session ends)
        self.dropping: set[str] = set()  # recipients whose RCPT breaks the connection
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [item.parsed() for item in self.received]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
