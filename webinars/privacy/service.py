"""Personal data: what an attendee can download, erasure, and the purge after RETENTION_DAYS.

Erasing replaces the name, email, organisation and time zone, deletes typed answers, and scrubs the
email log and imported participant reports of the person. What stays says nothing about who it was:
the status, the dates, the answers picked from a list (countries, choices) and the attendance, so the
counts and reports of past webinars remain true.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import (
    CHOICE_KINDS,
    Answer,
    Event,
    OutboxMessage,
    OutboxStatus,
    ParticipantRecord,
    Registration,
    RegistrationStatus,
    WebhookEventType,
)
from ..questions.service import display_value
from ..registrations.service import fill_from_waitlist, release_seat
from ..text import new_token
from ..timefmt import iso_utc
from ..webhooks import service as webhooks

ERASED_NAME = "(erased)"
PURGE_CHUNK = 500


def erased_address(registration: Registration) -> str:
    # Unique per webinar (the table's rule) and undeliverable by definition (RFC 2606's .invalid).
    return f"erased-{registration.id}@erased.invalid"


def personal_data(registration: Registration) -> dict[str, Any]:
    """Everything stored about one registration, for the attendee to download."""
    event = registration.event
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.id)
    )
    return {
        "webinar": {"title": event.title, "starts_at": iso_utc(event.starts_at)},
        "registration": {
            "name": registration.name,
            "email": registration.email,
            "organisation": registration.organisation,
            "status": registration.status,
            "time_zone": registration.timezone,
            "language": registration.locale,
            "consent_to_emails": registration.consent,
            "registered_at": iso_utc(registration.created_at),
            "confirmed_at": registration.confirmed_at and iso_utc(registration.confirmed_at),
            "cancelled_at": registration.cancelled_at and iso_utc(registration.cancelled_at),
            "unsubscribed_at": registration.unsubscribed_at and iso_utc(registration.unsubscribed_at),
            "attended": registration.attended,
            "minutes_attended": registration.attended_minutes,
        },
        "answers": [
            {"question": answer.question_label, "answer": display_value(answer, registration.locale)}
            for answer in registration.answers
        ],
        "emails": [
            {
                "subject": message.subject,
                "kind": message.kind,
                "status": message.status,
                "queued_at": iso_utc(message.created_at),
                "sent_at": message.sent_at and iso_utc(message.sent_at),
            }
            for message in messages
        ],
    }


def _scrub(registrations: list[Registration]) -> None:
    """Replace what identifies these people; keep what the reports count. Does not commit.

    Statements on the tables around them go out once per batch, not once per person: the purge of a
    webinar with thousands of attendees stays a handful of round trips per 500 people.
    """
    if not registrations:
        return
    now = clock.now()
    ids = [registration.id for registration in registrations]
    for registration in registrations:
        registration.name = ERASED_NAME
        registration.email = erased_address(registration)
        registration.organisation = ""
        registration.timezone = None
        registration.status_reason = ""
        registration.token = new_token()  # the old private link stops working
        registration.unsubscribed_at = registration.unsubscribed_at or now
        registration.erased_at = now
    db.session.flush()
    db.session.execute(
        delete(Answer).where(Answer.registration_id.in_(ids), Answer.kind.not_in(list(CHOICE_KINDS)))
    )
    # Mail not yet sent would go to an address that no longer exists; what was sent stays as a count.
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.registration_id.in_(ids),
            OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
        )
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(ids))
        .values(recipient="erased@erased.invalid", recipient_name="", body_text="", body_html="", ics=None)
        .execution_options(synchronize_session=False)
    )
    webhooks.forget_registrations(ids)
    db.session.execute(
        update(ParticipantRecord)
        .where(ParticipantRecord.registration_id.in_(ids))
        .values(name=ERASED_NAME, email="")
        .execution_options(synchronize_session=False)
    )
    for registration in registrations:
        db.session.expire(registration, ["answers"])


def erase(registration: Registration) -> None:
    """Erase one registration, at the attendee's request or an organizer's: the seat is released and
    the waitlist promoted, then the personal data replaced. Commits."""
    with writing():
        # Locked and read fresh: a cancellation at the same moment must not release the seat twice.
        db.session.refresh(registration, with_for_update=True)
        if registration.erased_at is not None:
            return
        was_confirmed = registration.status == RegistrationStatus.CONFIRMED
        withdrawn = registration.status not in (RegistrationStatus.REJECTED, RegistrationStatus.CANCELLED)
        if registration.status != RegistrationStatus.REJECTED:
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = registration.cancelled_at or clock.now()
        if was_confirmed:
            release_seat(registration.event_id)
        _scrub([registration])
        if withdrawn:  # told after the scrub: the receiver learns the person left, not who they were
            webhooks.emit(WebhookEventType.REGISTRATION_CANCELLED, registration.event, registration)
        if was_confirmed:
            fill_from_waitlist(registration.event)
        db.session.commit()


def purge_expired() -> int:
    """Erase the personal data of webinars that ended more than RETENTION_DAYS ago, keeping statuses,
    choice answers and attendance. Run by the worker; returns how many registrations were purged."""
    days = current_app.config["RETENTION_DAYS"]
    cutoff = clock.now() - timedelta(days=days)
    purged = 0
    due = db.session.scalars(
        select(Event.id).where(Event.starts_at < cutoff, Event.personal_data_purged_at.is_(None))
    ).all()
    for event_id in due:
        with writing():
            event = db.session.get(Event, event_id)
            if event is None or event.ends_at >= cutoff or event.personal_data_purged_at is not None:
                db.session.rollback()
                continue
            while True:
                chunk = db.session.scalars(
                    select(Registration)
                    .where(Registration.event_id == event_id, Registration.erased_at.is_(None))
                    .limit(PURGE_CHUNK)
                ).all()
                _scrub(list(chunk))
                purged += len(chunk)
                if len(chunk) < PURGE_CHUNK:
                    break
            db.session.execute(
                update(ParticipantRecord)
                .where(ParticipantRecord.event_id == event_id)
                .values(name=ERASED_NAME, email="")
                .execution_options(synchronize_session=False)
            )
            event.personal_data_purged_at = clock.now()
            db.session.commit()
    return purged


# The purge looks for work at most this often per worker process: it scans every ended webinar.
PURGE_INTERVAL_SECONDS = 3600
_last_purge: float | None = None
log = logging.getLogger(__name__)


def purge_when_due() -> int:
    """The worker's producer for the retention purge: purge_expired() at most once an hour.

    It writes no mail, so it always answers 0 (a purge never makes the worker run another pass)."""
    global _last_purge
    now = time.monotonic()
    if _last_purge is not None and now - _last_purge < PURGE_INTERVAL_SECONDS:
        return 0
    _last_purge = now
    purged = purge_expired()
    if purged:
        log.info("retention: replaced the personal data of %s registration(s)", purged)
    return 0
