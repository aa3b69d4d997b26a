"""Enqueue mail inside the caller's transaction: a committed change always has its mail."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from sqlalchemy import update

from .. import clock
from ..extensions import db
from ..models import OutboxMessage, OutboxStatus
from ..urls import site_host


def enqueue(
    *,
    kind: str,
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
    from ..database import writing

    with writing():
        if message.status == OutboxStatus.FAILED:
            message.status = OutboxStatus.QUEUED
            message.attempts = 0
            message.next_attempt_at = clock.now()
        db.session.commit()


def retry_failed(
    *, event_id: int | None = None, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Queue again, with fresh attempts, every failed message of a webinar and/or of a period (by
    when it was queued). Returns how many. Commits.

    For the end of an outage that outlasted a relay's patience, or a fixed configuration: one action
    instead of one click per message.
    """
    from ..database import writing

    conditions = [OutboxMessage.status == OutboxStatus.FAILED]
    if event_id is not None:
        conditions.append(OutboxMessage.event_id == event_id)
    if since is not None:
        conditions.append(OutboxMessage.created_at >= since)
    if until is not None:
        conditions.append(OutboxMessage.created_at < until)
    with writing():
        count = db.session.execute(
            update(OutboxMessage)
            .where(*conditions)
            .values(status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=clock.now(), locked_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    return count
