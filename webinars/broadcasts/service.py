"""Messages from organizers to the people registered for a webinar, and the recording follow-up.

Creating a message is instant: the worker expands it into outbox rows a chunk at a time, so a send
to thousands of people never holds a web request, and the progress view can count what is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from .. import audit
from ..database import writing
from ..extensions import db
from ..mail import notifications
from ..massmail import service as massmail
from ..massmail.service import audience_query, audience_size, expand_pending
from ..models import (
    Audience,
    AuditAction,
    Broadcast,
    Event,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    User,
)
from ..rules import RuleError
from ..validators import text_errors

__all__ = ["audience_query", "audience_size", "expand_pending"]


def create(
    event: Event,
    author: User | None,
    *,
    audience: Audience,
    subject: str,
    body_md: str,
    kind: MailKind = MailKind.MESSAGE,
) -> Broadcast:
    """Queue a message to ``audience`` at once, for callers whose call is the confirmation (the
    command line, scripts); the pages go through massmail.draft and massmail.confirm. Commits.

    Raises RuleError when the subject holds a line break or control character (it becomes a mail
    header) or the body a control character.
    """
    broadcast = massmail.draft(event, author, kind=kind, audience=audience, subject=subject, body_md=body_md)
    massmail.confirm(broadcast, None)
    return broadcast


def draft_message(
    event: Event, author: User | None, *, audience: Audience, subject: str, body_md: str
) -> Broadcast:
    """A message waiting for its preview and confirmation. Commits."""
    return massmail.draft(
        event, author, kind=MailKind.MESSAGE, audience=audience, subject=subject, body_md=body_md
    )


def draft_recording(event: Event, author: User | None, audience: Audience) -> Broadcast:
    """The email that the recording is online (with its summary), waiting for its confirmation. Commits."""
    return massmail.draft(
        event,
        author,
        kind=MailKind.RECORDING,
        audience=audience,
        subject=notifications.SUBJECTS[MailKind.RECORDING](event),
    )


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
