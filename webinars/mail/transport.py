"""Where composed messages go: a real SMTP server, or .eml files in a folder for development."""

from __future__ import annotations

import os
import smtplib
import tempfile
from contextlib import suppress
from email.message import EmailMessage
from types import TracebackType
from typing import Protocol, Self


class PermanentFailure(Exception):
    """This message cannot be delivered, and retrying will not help: the relay refused the recipient
    or the content for good (a 5xx answer), or needs something it does not offer (SMTPUTF8)."""


class TransientFailure(Exception):
    """The relay deferred this one message (a 4xx answer to its recipient or content): retry later."""


class RelayUnavailable(Exception):
    """The relay as a whole cannot take mail now: unreachable, the connection dropped, or it refused
    the session. ``in_flight``: a message was being sent when it happened; ``dropped``: the
    connection broke in the middle of that message (which may be the message's doing)."""

    def __init__(self, reason: str, *, in_flight: bool = False, dropped: bool = False) -> None:
        super().__init__(reason)
        self.in_flight = in_flight
        self.dropped = dropped


# 421: the server is closing the whole session (RFC 5321 4.2.3), whatever command it answers.
_SESSION_CLOSING = 421
# 552 to MAIL FROM: the declared SIZE of this message is too large.
_TOO_LARGE = 552


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


def classify(error: Exception, *, in_flight: bool) -> Exception:
    """The outcome an SMTP error means, as one of the three failures above."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return PermanentFailure(f"the mail server does not offer what this message needs: {error}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        answers = "; ".join(f"{code} {text!r}" for code, text in error.recipients.values())
        if _SESSION_CLOSING in codes:
            return RelayUnavailable(answers, in_flight=in_flight)
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentFailure(answers)
        return TransientFailure(answers)
    if isinstance(error, smtplib.SMTPSenderRefused) and error.smtp_code != _TOO_LARGE:
        # Every message has the same sender: a refusal is about the session, not this message.
        return RelayUnavailable(_describe(error), in_flight=in_flight)
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        return RelayUnavailable(_describe(error), in_flight=in_flight, dropped=in_flight)
    if isinstance(error, smtplib.SMTPResponseException):
        if error.smtp_code == _SESSION_CLOSING:
            return RelayUnavailable(_describe(error), in_flight=in_flight)
        if 500 <= error.smtp_code < 600:
            return PermanentFailure(_describe(error))
        return TransientFailure(_describe(error))
    if isinstance(error, smtplib.SMTPException):
        return RelayUnavailable(_describe(error), in_flight=in_flight)
    return error


class WireMessage:
    """A message as it goes over the wire: its bytes, and the envelope they travel in.

    The email package builds a tree of parts and headers for every message and writes it out again;
    for the messages this application sends, whose structure (the parts, their headers, the sender,
    often the subject) is the same from one recipient to the next, that was half of the worker's
    time per message. ``build_mime`` writes the same bytes directly: the fixed parts are written
    once per shape, the personal headers go through the email package's own folding, and each body
    is encoded once (the calendar once for both the inline part and the attachment).
    ``tests/test_mail_standards.py`` holds compose.build_mime to byte-identity with the email
    package's output.
    """

    __slots__ = ("data", "envelope_from", "envelope_to", "message_id")

    def __init__(self, data: bytes, *, envelope_from: str, envelope_to: str, message_id: str) -> None:
        self.data = data
        self.envelope_from = envelope_from
        self.envelope_to = envelope_to
        self.message_id = message_id

    def as_bytes(self) -> bytes:
        return self.data

    def __getitem__(self, name: str) -> str | None:
        return self.message_id if name.lower() == "message-id" else None


class Transport(Protocol):
    """A connection (or folder) that sends a batch: a context manager with ``send``."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def send(self, message: EmailMessage | WireMessage) -> None: ...


class FolderTransport:
    """Writes each message to ``<folder>/<Message-ID>.eml`` (atomically, so readers never see half a file)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __enter__(self) -> Self:
        os.makedirs(self.folder, exist_ok=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def send(self, message: EmailMessage | WireMessage) -> None:
        name = str(message["Message-ID"]).strip("<>").replace("/", "_") + ".eml"
        data = message.as_bytes()  # content faults raise here, before the folder is touched
        try:
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, os.path.join(self.folder, name))
        except OSError as error:  # a full or missing folder is the outlet's fault, as an outage is
            raise RelayUnavailable(f"{type(error).__name__}: {error}") from error


class SMTPTransport:
    """One SMTP connection for a batch of messages."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        use_tls: bool = False,
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.host, self.port = host, port
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.username, self.password = username, password
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        try:
            connection = cls(self.host, self.port, timeout=self.timeout)
        except (smtplib.SMTPException, OSError) as error:
            raise RelayUnavailable(_describe(error)) from error
        try:
            if self.use_tls and not self.use_ssl:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password or "")
            # EHLO now rather than with the first message, so a relay that accepts connections but
            # refuses the session counts as unavailable before any message is at stake.
            if connection.ehlo_resp is None and connection.helo_resp is None:
                code, answer = connection.ehlo()
                if not 200 <= code < 300:
                    raise smtplib.SMTPHeloError(code, answer)
        except (smtplib.SMTPException, OSError) as error:
            connection.close()
            raise RelayUnavailable(_describe(error)) from error
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (smtplib.SMTPException, OSError):
            self.connection.close()
        self.connection = None

    def send(self, message: EmailMessage | WireMessage) -> None:
        """Send one message. Raises PermanentFailure, TransientFailure or RelayUnavailable for what
        the relay answered, or whatever building the message's bytes raised (its own fault)."""
        assert self.connection is not None, "use the transport as a context manager"
        try:
            if isinstance(message, WireMessage):
                self.connection.sendmail(message.envelope_from, [message.envelope_to], message.data)
            else:
                self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            outcome = classify(error, in_flight=True)
            if outcome is error:
                raise
            raise outcome from error
        except Exception:
            # The content failed to serialise. smtplib flattens before its first command, but reset
            # anyway, so whatever was under way cannot spill into the next message's transaction.
            with suppress(smtplib.SMTPException, OSError):
                self.connection.rset()
            raise
