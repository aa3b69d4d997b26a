"""Enqueue mail inside the caller's transaction: a committed change always has its mail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from email.utils import make_msgid

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import MailKind, OutboxMessage, OutboxStatus
from ..urls import site_host


@dataclass(frozen=True)
class Envelope:
    """Who a message goes to, what kind it is, and what it is about."""

    kind: MailKind
    recipient: str
    subject: str
    recipient_name: str = ""
    event_id: int | None = None
    registration_id: int | None = None
    broadcast_id: int | None = None


@dataclass(frozen=True)
class Content:
    """What a message says: its bodies, its calendar (METHOD and bytes) and its unsubscribe link."""

    body_text: str
    body_html: str = ""
    ics_method: str | None = None
    ics: bytes | None = None
    unsubscribe_url: str | None = None

    def columns(self) -> dict[str, object]:
        """The OutboxMessage columns this content fills."""
        return asdict(self)


def enqueue(envelope: Envelope, content: Content | None = None) -> OutboxMessage:
    """Add a message to the outbox. It is sent by the worker after the caller commits.

    Without ``content`` the worker renders the message from its registration when it sends it (see
    mail.notifications.send): the usual case, so a message always says what is true when it leaves.
    """
    message = OutboxMessage(
        **asdict(envelope),
        **(content.columns() if content else {"body_text": None}),
        message_id=make_msgid(domain=site_host()),
        next_attempt_at=clock.now(),
    )
    db.session.add(message)
    return message


def retry(message: OutboxMessage) -> None:
    """Queue a failed message again, with a fresh set of attempts. Commits."""
    with writing():
        if message.status == OutboxStatus.FAILED:
            message.status = OutboxStatus.QUEUED
            message.attempts = 0
            message.next_attempt_at = clock.now()
        db.session.commit()
