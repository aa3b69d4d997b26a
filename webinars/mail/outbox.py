"""Enqueue mail inside the caller's transaction: a committed change always has its mail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any, cast

from sqlalchemy import CursorResult, update

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
        lane=MailKind(envelope.kind).lane,
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
        # An UPDATE's result is a cursor's, which has the row count.
        count = cast(
            CursorResult[Any],
            db.session.execute(
                update(OutboxMessage)
                .where(*conditions)
                .values(
                    status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=clock.now(), locked_until=None
                )
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        db.session.commit()
    return count
