"""Reminders before a webinar, produced by the worker (no cron needed).

A reminder for offset O is due at ``start - O``. It is computed from the start each time, so a
rescheduled webinar moves its reminders. It is sent only while ``now`` is within its window after
that moment (a quarter of the offset, at least 5 minutes) and before the start: someone who
registers 30 minutes before the start gets no 24-hour reminder. The unique key of
ReminderDelivery (registration, offset) makes "never twice" a database rule, even with several
workers producing at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import Event, EventStatus, MailKind, Registration, RegistrationStatus, ReminderDelivery
from . import notifications

# Longest offset the form accepts (60 days): webinars further away need no look.
HORIZON = timedelta(days=60)
BATCH = 500


def window(offset_minutes: int) -> timedelta:
    return timedelta(minutes=max(offset_minutes // 4, 5))


def is_due(starts_at: datetime, offset_minutes: int, now: datetime) -> bool:
    moment = starts_at - timedelta(minutes=offset_minutes)
    return moment <= now <= moment + window(offset_minutes) and now < starts_at


def _pending(event: Event, offset: int) -> list[Registration]:
    already = exists().where(
        and_(ReminderDelivery.registration_id == Registration.id, ReminderDelivery.offset_minutes == offset)
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.unsubscribed_at.is_(None),
                ~already,
            )
            .order_by(Registration.id)
            .limit(BATCH)
        )
    )


def enqueue_due() -> int:
    """Put every reminder that is due now in the outbox. Returns how many were enqueued."""
    now = clock.now()
    with writing():
        events = db.session.scalars(
            select(Event)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + HORIZON,
                Event.reminder_offsets != "",
            )
            .options(selectinload(Event.owner))
        ).all()
        enqueued = 0
        for event in events:
            for offset in event.reminder_minutes:
                if not is_due(event.starts_at, offset, now):
                    continue
                for registration in _pending(event, offset):
                    enqueued += _enqueue_once(registration, offset)
        db.session.commit()
    return enqueued


def _enqueue_once(registration: Registration, offset: int) -> int:
    delivery = ReminderDelivery(registration_id=registration.id, offset_minutes=offset)
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
            db.session.flush()
    except IntegrityError:  # another worker produced this reminder a moment ago
        return 0
    message = notifications.send(registration, MailKind.REMINDER, offset_minutes=offset)
    db.session.flush()
    delivery.message_id = message.id
    return 1
