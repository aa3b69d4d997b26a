"""Where composed messages go: a real SMTP server, or .eml files in a folder for development."""

from __future__ import annotations

import os
import smtplib
import tempfile
from email.message import EmailMessage
from types import TracebackType
from typing import Protocol, Self


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx answer): retrying will not help."""


class Transport(Protocol):
    """A connection (or folder) that sends a batch: a context manager with ``send``."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def send(self, message: EmailMessage) -> None: ...


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

    def send(self, message: EmailMessage) -> None:
        name = str(message["Message-ID"]).strip("<>").replace("/", "_") + ".eml"
        fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(temporary, os.path.join(self.folder, name))


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
        connection = cls(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls and not self.use_ssl:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password or "")
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

    def send(self, message: EmailMessage) -> None:
        assert self.connection is not None, "use the transport as a context manager"
        try:
            self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(str(error)) from error
            raise
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPServerDisconnected):
                raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise
