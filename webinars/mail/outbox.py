"""Enqueue mail inside the caller's transaction: a committed change always has its mail."""

from __future__ import annotations

from email.utils import make_msgid

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import MailKind, OutboxMessage, OutboxStatus
from ..urls import site_host


def enqueue(
    *,
    kind: MailKind,
    recipient: str,
    subject: str,
    body_text: str | None = None,
    body_html: str = "",
    recipient_name: str = "",
    ics_method: str | None = None,
    ics: bytes | None = None,
    event_id: int | None = None,
    registration_id: int | None = None,
    broadcast_id: int | None = None,
    unsubscribe_url: str | None = None,
) -> OutboxMessage:
    """Add a message to the outbox. It is sent by the worker after the caller commits.

    Without ``body_text`` the worker renders the message from its registration when it sends it.
    """
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        recipient_name=recipient_name,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        ics_method=ics_method,
        ics=ics,
        event_id=event_id,
        registration_id=registration_id,
        broadcast_id=broadcast_id,
        unsubscribe_url=unsubscribe_url,
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
