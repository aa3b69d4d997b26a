"""Messages from organizers to the people registered for a webinar, and the recording follow-up.

Creating a message is instant: the worker expands it into outbox rows a chunk at a time, so a send
to thousands of people never holds a web request, and the progress view can count what is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from .. import audit, clock
from ..database import writing
from ..extensions import db
from ..mail import notifications
from ..models import (
    Audience,
    AuditAction,
    Broadcast,
    Event,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    User,
)
from ..rules import RuleError
from ..validators import text_errors

CHUNK = 500


def audience_query(event_id: int, audience: Audience) -> Select[Registration]:
    query = select(Registration).where(
        Registration.event_id == event_id, Registration.unsubscribed_at.is_(None)
    )
    match Audience(audience):
        case Audience.CONFIRMED:
            return query.where(Registration.status == RegistrationStatus.CONFIRMED)
        case Audience.WAITLISTED:
            return query.where(Registration.status == RegistrationStatus.WAITLISTED)
        case Audience.ATTENDED:
            return query.where(Registration.attended.is_(True))
        case Audience.ABSENT:
            return query.where(
                Registration.status == RegistrationStatus.CONFIRMED, Registration.attended.is_not(True)
            )
        case Audience.ALL:
            # Everyone with a place or a place in line; not people awaiting a decision or declined.
            return query.where(
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED))
            )


def audience_size(event_id: int, audience: Audience) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(audience_query(event_id, audience).subquery()))
        or 0
    )


def create(
    event: Event,
    author: User | None,
    *,
    audience: Audience,
    subject: str,
    body_md: str,
    kind: MailKind = MailKind.MESSAGE,
) -> Broadcast:
    """Queue a message to ``audience``; the worker sends it. Commits.

    Raises RuleError when the subject holds a line break or control character (it becomes a mail
    header) or the body a control character.
    """
    errors = text_errors(one_line={"subject": subject}, multiline={"body": body_md})
    if errors:
        raise RuleError(errors)
    with writing():
        broadcast = Broadcast(
            event_id=event.id,
            author_id=author.id if author else None,
            kind=kind,
            audience=Audience(audience),
            subject=subject.strip(),
            body_md=body_md,
            total=audience_size(event.id, audience),
        )
        db.session.add(broadcast)
        action = AuditAction.RECORDING_SENT if kind == MailKind.RECORDING else AuditAction.MESSAGE_SENT
        audit.record(event, action, f"{broadcast.subject} ({audience}, {broadcast.total})", actor=author)
        db.session.commit()
    return broadcast


def announce_recording(event: Event, author: User | None, audience: Audience) -> Broadcast:
    """Email ``audience`` that the recording is online, with its summary. Commits."""
    return create(
        event,
        author,
        audience=audience,
        kind=MailKind.RECORDING,
        subject=notifications.SUBJECTS[MailKind.RECORDING](event),
        body_md=event.recording_summary,
    )


def preview(event: Event, *, subject: str, body_md: str, kind: MailKind = MailKind.MESSAGE) -> dict[str, Any]:
    """The message as its first recipient would get it (subject, bodies), without storing anything."""
    sample = db.session.scalars(audience_query(event.id, Audience.ALL).limit(1)).first()
    if sample is None:
        sample = Registration(
            event=event,
            email="attendee@example.org",
            name=_("Attendee"),
            token="preview",
            locale="en",
            status=RegistrationStatus.CONFIRMED,
        )
    draft = Broadcast(event_id=event.id, kind=kind, audience=Audience.ALL, subject=subject, body_md=body_md)
    return notifications.render(sample, kind, broadcast=draft)


def expand_pending() -> int:
    """Turn the next chunk of each unsent message into outbox rows. Returns how many rows were added."""
    added = 0
    with writing():
        broadcasts = db.session.scalars(
            select(Broadcast)
            .where(Broadcast.expanded_at.is_(None))
            .order_by(Broadcast.id)
            .with_for_update(skip_locked=True)
        ).all()
        for broadcast in broadcasts:
            query = (
                audience_query(broadcast.event_id, broadcast.audience).order_by(Registration.id).limit(CHUNK)
            )
            if broadcast.expanded_through is not None:
                query = query.where(Registration.id > broadcast.expanded_through)
            chunk = db.session.scalars(query).all()
            for registration in chunk:
                notifications.send(registration, broadcast.kind, broadcast=broadcast)
            if chunk:
                broadcast.expanded_through = chunk[-1].id
                added += len(chunk)
            if len(chunk) < CHUNK:
                broadcast.expanded_at = clock.now()
        db.session.commit()
    return added


@dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    sent: int
    failed: int
    expanding: bool

    @property
    def done(self) -> bool:
        return not self.expanding and self.queued == 0

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, round(100 * (self.sent + self.failed) / self.total))


def progress(broadcast: Broadcast) -> Progress:
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.broadcast_id == broadcast.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    enqueued = sum(counts.values())
    waiting = counts.get(OutboxStatus.QUEUED, 0) + counts.get(OutboxStatus.SENDING, 0)
    if broadcast.expanded_at is None:
        waiting += max(broadcast.total - enqueued, 0)
    return Progress(
        total=max(broadcast.total, enqueued),
        queued=waiting,
        sent=counts.get(OutboxStatus.SENT, 0),
        failed=counts.get(OutboxStatus.FAILED, 0),
        expanding=broadcast.expanded_at is None,
    )


def set_recording(event: Event, *, url: str, summary: str) -> None:
    """Save the recording. Refused (RuleError) before the webinar has started: there is nothing to
    record yet, and the upcoming pages would offer to watch it; and for control characters."""
    errors = text_errors(one_line={"recording_url": url}, multiline={"recording_summary": summary})
    if errors:
        raise RuleError(errors)
    if url.strip() and not event.has_started:
        raise RuleError({"recording_url": _("A recording can be added once the webinar has started.")})
    with writing():
        event.recording_url = url.strip()
        event.recording_summary = summary
        audit.record(event, AuditAction.RECORDING_SAVED, event.recording_url)
        db.session.commit()


def email_log(event: Event, status: OutboxStatus | None = None) -> Select[OutboxMessage]:
    """A select() of every email about the webinar (only those in ``status`` if given), newest first."""
    query = select(OutboxMessage).where(OutboxMessage.event_id == event.id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return query.order_by(OutboxMessage.id.desc())


def failed_count(event_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.event_id == event_id, OutboxMessage.status == OutboxStatus.FAILED
            )
        )
        or 0
    )
