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

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, literal, or_, select
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


# The (webinar, offset, start) of each reminder this process last found sent to everyone, per app.
_SWEPT = "webinars.mail.reminders.swept"

Sweep = tuple[int, int, datetime]


def _swept() -> set[Sweep]:
    swept: set[Sweep] = current_app.extensions.setdefault(_SWEPT, set())
    return swept


def _someone_waits(sweeps: set[Sweep]) -> ColumnElement[bool]:
    """True while a confirmed, subscribed person of one of ``sweeps`` lacks its reminder: the
    check that a reminder already sent to everyone still is."""
    return or_(
        *(
            exists().where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.unsubscribed_at.is_(None),
                ~exists().where(
                    ReminderDelivery.registration_id == Registration.id,
                    ReminderDelivery.offset_minutes == offset,
                ),
            )
            for event_id, offset, _ in sorted(sweeps)
        )
    )


def enqueue_due() -> int:
    """Put every reminder that is due now in the outbox. Returns how many were enqueued. Commits.

    The worker runs this on every pass, and while a reminder's window is open (hours, for a 24-hour
    reminder) almost every pass finds it already sent. Such a pass costs one query: the schedule of
    the webinars ahead (columns, no objects), and whether anyone of the reminders this process last
    found complete still lacks theirs. Only a reminder not known complete, or someone new to remind
    (a late sign-up, a promotion), takes the full path.
    """
    now = clock.now()
    swept = _swept()
    schedule = (
        select(Event.id, Event.starts_at, Event.reminder_offsets)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.starts_at <= now + HORIZON,
            Event.reminder_offsets != "",
        )
        .order_by(Event.id)
    )
    if swept:
        schedule = schedule.add_columns(_someone_waits(swept).label("waiting"))
    else:
        schedule = schedule.add_columns(literal(False).label("waiting"))
    rows = db.session.execute(schedule).all()
    db.session.commit()  # a read: end it, so an idle worker holds no snapshot or lock
    due = {
        (row.id, offset, row.starts_at)
        for row in rows
        for offset in Event.minutes_of(row.reminder_offsets)
        if is_due(row.starts_at, offset, now)
    }
    swept.intersection_update(due)  # what is no longer due needs no watching
    if due <= swept and not any(row.waiting for row in rows):
        return 0
    return _enqueue_pending(due, swept)


def _enqueue_pending(due: set[Sweep], swept: set[Sweep]) -> int:
    enqueued = 0
    with writing():
        events = {
            event.id: event
            for event in db.session.scalars(
                select(Event)
                .where(Event.id.in_({event_id for event_id, _, _ in due}))
                .options(selectinload(Event.owner))
            )
        }
        for event_id, offset, starts_at in sorted(due):
            event = events.get(event_id)
            if event is None or event.starts_at != starts_at:
                continue  # changed since the schedule was read: the next pass sees it as it is
            pending = _pending(event, offset)
            for registration in pending:
                enqueued += _enqueue_once(registration, offset)
            if len(pending) < BATCH:
                swept.add((event_id, offset, starts_at))
            else:
                swept.discard((event_id, offset, starts_at))
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
