"""Registration rules, shared by the web views, the CLI and any API.

Seats are counted in ``event.seats_taken`` and taken with one conditional UPDATE, which the database
applies atomically: on PostgreSQL concurrent updates of the row queue behind its lock and re-check
the condition; on SQLite writers hold the database lock from BEGIN IMMEDIATE. So capacity holds with
any number of processes, and no seat is ever counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..database import writing
from ..extensions import db
from ..mail import notifications
from ..models import (
    AuditAction,
    Event,
    EventStatus,
    MailKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    WebhookEventType,
)
from ..pagecache import UNCHANGED_CONTENT
from ..questions.service import record_answers
from ..rules import RuleError
from ..text import has_control_characters, new_token, normalise_email, single_line
from ..webhooks import service as webhooks

# A repeated sign-up re-sends the invitation, but not more often than this.
RESEND_INTERVAL = timedelta(minutes=2)


class RegistrationRefused(RuleError):
    """Registration is not possible; ``reason`` is one of: not_published, cancelled, closed."""

    def __init__(self, reason: str) -> None:
        if reason == "cancelled":
            message = _l("This webinar has been cancelled.")
        else:  # a draft is as closed as a webinar past its deadline, to the public
            message = _l("Registration is closed.")
        super().__init__({"registration": [str(message)]})
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Outcome:
    registration: Registration
    created: bool
    # Read before the commit, which expires the registration: asking it again would cost a SELECT.
    status: RegistrationStatus


def check_open(event: Event) -> None:
    if event.status == EventStatus.CANCELLED:
        raise RegistrationRefused("cancelled")
    if event.status != EventStatus.PUBLISHED:
        raise RegistrationRefused("not_published")
    if clock.now() >= event.registration_closes_at:
        raise RegistrationRefused("closed")


def take_seat(event_id: int) -> bool:
    """Take one seat if one is left. False means the webinar is full."""
    # An UPDATE's result is a cursor's, which has the row count.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(Event)
            .where(Event.id == event_id, or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity))
            # updated_at stays: a seat taken is not a change to the webinar (feeds and caches key on it)
            .values(seats_taken=Event.seats_taken + 1, updated_at=Event.updated_at)
            # pages fill in the seats per response: no page needs rendering again
            .execution_options(synchronize_session=False, **{UNCHANGED_CONTENT: True})
        ),
    )
    if result.rowcount == 1:
        return True
    # Full: still lock the row until commit, so a cancellation cannot free a seat unseen by this
    # transaction and leave someone on the waitlist beside an empty seat.
    # FOR NO KEY UPDATE: it must not conflict with the key-share lock our own INSERT's foreign key holds.
    db.session.execute(select(Event.id).where(Event.id == event_id).with_for_update(key_share=True))
    return False


def release_seat(event_id: int) -> None:
    db.session.execute(
        update(Event)
        .where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False, **{UNCHANGED_CONTENT: True})
    )


def _confirm(registration: Registration) -> None:
    registration.status = RegistrationStatus.CONFIRMED
    registration.confirmed_at = clock.now()


def register(
    event: Event,
    *,
    name: str,
    email: str,
    organisation: str = "",
    consent: bool = False,
    timezone: str | None = None,
    locale: str = "en",
    answers: dict[int, str] | None = None,
) -> Outcome:
    """Register ``email`` for ``event``: confirmed while seats remain, waitlisted when full; with
    approval mode, pending (no seat) until the organizer decides.

    The same address twice never makes a second registration, and never changes the one there is:
    whoever types an address is not necessarily its owner, so the name, organisation and language
    stay, and a cancelled registration stays cancelled. The owner gets an email instead (their
    invitation again, or for a cancelled registration the link to register again from their manage
    page), so the caller can answer exactly as for a new sign-up. Commits.
    """
    address = normalise_email(email)
    if has_control_characters(name) or has_control_characters(organisation):
        raise ValueError("the name or organisation holds a line break or a control character")
    event_id = event.id
    with writing():
        check_open(event)
        # Before the row lock: who listens does not depend on the seat.
        endpoints = webhooks.listening(WebhookEventType.REGISTRATION_CREATED, event)
        # No look-up first: the unique (event, email) key answers "registered already?" with the
        # INSERT itself, and a repeated sign-up (rare) pays for a rollback instead of every sign-up
        # paying for a SELECT.
        registration = Registration(
            event_id=event_id,
            email=address,
            name=single_line(name),
            organisation=single_line(organisation),
            consent=consent,
            timezone=timezone,
            locale=locale,
            token=new_token(),
        )
        if event.approval_required:
            registration.status = RegistrationStatus.PENDING
        else:  # assumed seated; corrected below in the rare case the seat is not there
            _confirm(registration)
        record_answers(event, registration, answers or {})
        db.session.add(registration)
        try:
            db.session.flush()
        except IntegrityError:  # this address is registered already (or won a race a moment ago)
            db.session.rollback()
            existing = _find(event_id, address)
            if existing is None:
                raise
            _resend(existing)
            outcome = Outcome(existing, created=False, status=existing.status)
            db.session.commit()
            return outcome
        message = notifications.send(registration, _STATUS_MAIL[RegistrationStatus(registration.status)])
        if not event.approval_required:
            # The seat last: every registration of this webinar queues for its row from this UPDATE
            # to the commit, so the registration and its message are written before taking it and
            # the lock is held for one statement and the commit.
            db.session.flush()
            if not take_seat(event_id):
                registration.status = RegistrationStatus.WAITLISTED
                registration.confirmed_at = None
                message.kind = MailKind.WAITLISTED
                message.lane = MailKind.WAITLISTED.lane
                message.subject = notifications.subject_for(registration, MailKind.WAITLISTED)
        webhooks.emit(WebhookEventType.REGISTRATION_CREATED, event, registration, endpoints=endpoints)
        outcome = Outcome(registration, created=True, status=registration.status)
        db.session.commit()
        return outcome


def register_again(registration: Registration) -> Outcome:
    """The owner of a cancelled registration takes it up again, from their manage page. Commits."""
    with writing():
        check_open(registration.event)
        if registration.status != RegistrationStatus.CANCELLED:
            return Outcome(registration, created=False, status=registration.status)
        registration.cancelled_at = None
        if registration.event.approval_required:
            registration.status = RegistrationStatus.PENDING
            db.session.flush()
            return _notify(registration, created=False)
        registration.status = RegistrationStatus.WAITLISTED
        return _seat_and_notify(registration, created=False)


def _find(event_id: int, address: str) -> Registration | None:
    return db.session.execute(
        select(Registration).where(Registration.event_id == event_id, Registration.email == address)
    ).scalar_one_or_none()


def _seat_and_notify(registration: Registration, *, created: bool) -> Outcome:
    if take_seat(registration.event_id):
        _confirm(registration)
    else:
        registration.status = RegistrationStatus.WAITLISTED
    db.session.flush()
    return _notify(registration, created=created)


_STATUS_MAIL = {
    RegistrationStatus.CONFIRMED: MailKind.REGISTRATION_CONFIRMED,
    RegistrationStatus.WAITLISTED: MailKind.WAITLISTED,
    RegistrationStatus.PENDING: MailKind.REGISTRATION_PENDING,
}


def _notify(registration: Registration, *, created: bool) -> Outcome:
    notifications.send(registration, _STATUS_MAIL[RegistrationStatus(registration.status)])
    # A cancelled registration taken up again is, to a receiver, a registration created again.
    webhooks.emit(WebhookEventType.REGISTRATION_CREATED, registration.event, registration)
    outcome = Outcome(registration, created=created, status=registration.status)
    db.session.commit()
    return outcome


class DecisionRefused(Exception):
    """Only pending sign-ups (and, for declining, waitlisted ones) can be decided on."""


def approve(registration: Registration) -> None:
    """Approve a pending sign-up: a seat if one is left (with the invitation), else the waitlist.
    Takes the seat with the same atomic update as a sign-up. Does not commit."""
    if registration.status != RegistrationStatus.PENDING:
        raise DecisionRefused(registration.status)
    if take_seat(registration.event_id):
        _confirm(registration)
    else:
        registration.status = RegistrationStatus.WAITLISTED
    registration.status_reason = ""
    db.session.flush()
    notifications.send(registration, _STATUS_MAIL[RegistrationStatus(registration.status)])
    if registration.status == RegistrationStatus.CONFIRMED:  # approved onto the waitlist: no seat yet
        webhooks.emit(WebhookEventType.REGISTRATION_PROMOTED, registration.event, registration)


def decline(registration: Registration, reason: str = "") -> None:
    """Decline a pending or waitlisted sign-up, with an optional reason for the email. Does not commit."""
    if registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.WAITLISTED):
        raise DecisionRefused(registration.status)
    registration.status = RegistrationStatus.REJECTED
    registration.status_reason = (reason or "").strip()
    db.session.flush()
    notifications.send(registration, MailKind.REGISTRATION_DECLINED)
    webhooks.emit(WebhookEventType.REGISTRATION_CANCELLED, registration.event, registration)


def decide(event: Event, registration_ids: list[int], *, approve_them: bool, reason: str = "") -> int:
    """Approve or decline several sign-ups of ``event`` in one transaction; those that cannot be
    decided on any more (somebody else was faster) are left alone. Returns how many changed. Commits.

    The rows are locked and read fresh, so two organizers pressing Approve at once never give one
    person two seats: the second waits, then sees the person confirmed and leaves them alone.
    """
    changed = 0
    with writing():
        chosen = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.id.in_(registration_ids))
            .order_by(Registration.created_at, Registration.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for registration in chosen:
            try:
                if approve_them:
                    approve(registration)
                else:
                    decline(registration, reason)
            except DecisionRefused:
                continue
            changed += 1
        if changed:
            audit.record(event, AuditAction.APPROVED if approve_them else AuditAction.DECLINED, str(changed))
        db.session.commit()
    return changed


def _resend(registration: Registration) -> None:
    """Send the current status again (or, when cancelled, the manage link), unless a message to this
    person went out moments ago."""
    recent = db.session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.registration_id == registration.id,
            OutboxMessage.created_at > clock.now() - RESEND_INTERVAL,
        )
        .limit(1)
    ).first()
    if recent:
        return
    if registration.status == RegistrationStatus.CANCELLED:
        notifications.send(registration, MailKind.MANAGE_LINK)
    else:
        notifications.resend_invitation(registration)


def get_by_token(token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(select(Registration).where(Registration.token == token)).scalar_one_or_none()


def cancel(registration: Registration) -> None:
    """The attendee cancels: free the seat and promote the earliest waitlisted person. Commits."""
    with writing():
        if registration.status == RegistrationStatus.CANCELLED:
            return
        was_confirmed = registration.status == RegistrationStatus.CONFIRMED
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = clock.now()
        if was_confirmed:
            release_seat(registration.event_id)
        db.session.flush()
        notifications.send(registration, MailKind.REGISTRATION_CANCELLED)
        webhooks.emit(WebhookEventType.REGISTRATION_CANCELLED, registration.event, registration)
        if was_confirmed:
            fill_from_waitlist(registration.event)
        if audit.acting_user() is not None:
            # An organizer cancelling someone (the API does it one by one); attendees cancelling
            # their own seat from their link are not organizers' actions and stay out of the log.
            audit.record(registration.event, AuditAction.REGISTRATIONS_CANCELLED, "1")
        db.session.commit()


def fill_from_waitlist(event: Event) -> list[Registration]:
    """Give free seats to waitlisted people, earliest first. Does not commit."""
    promoted: list[Registration] = []
    if event.status != EventStatus.PUBLISHED or clock.now() >= event.starts_at:
        return promoted
    while True:
        candidate = db.session.execute(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        ).scalar_one_or_none()
        if candidate is None or not take_seat(event.id):
            break
        _confirm(candidate)
        db.session.flush()
        notifications.send(candidate, MailKind.PROMOTED)
        webhooks.emit(WebhookEventType.REGISTRATION_PROMOTED, event, candidate)
        promoted.append(candidate)
    db.session.expire(event, ["seats_taken"])
    return promoted


def resend(registration: Registration) -> None:
    """An organizer sends a person their invitation (or waitlist status) again. Commits."""
    if registration.status == RegistrationStatus.CANCELLED:
        raise RuleError.on("status", str(_l("This registration is cancelled: there is nothing to resend.")))
    with writing():
        notifications.resend_invitation(registration)
        db.session.commit()


def set_attendance(registration: Registration, attended: bool | None) -> None:
    """Record whether the person came (None: not recorded). Commits."""
    with writing():
        registration.attended = attended
        db.session.commit()


def unsubscribe(registration: Registration) -> None:
    """Stop reminders and organizer messages to this person for this webinar. Commits."""
    with writing():
        if registration.unsubscribed_at is None:
            registration.unsubscribed_at = clock.now()
        db.session.commit()


# --- reading (the CSV export is registrations.export) ------------------------------------------


def status_counts(event_ids: list[int]) -> dict[int, dict[RegistrationStatus, int]]:
    """How many registrations each webinar has in each status, in one query."""
    counts: dict[int, dict[RegistrationStatus, int]] = {event_id: {} for event_id in event_ids}
    if event_ids:
        rows = db.session.execute(
            select(Registration.event_id, Registration.status, func.count())
            .where(Registration.event_id.in_(event_ids))
            .group_by(Registration.event_id, Registration.status)
        )
        for event_id, status, count in rows:
            counts[event_id][status] = count
    return counts


def attended_count(event: Event) -> int:
    """How many people the organizer (or an imported report) marked as attended."""
    return (
        db.session.scalar(
            select(func.count()).where(Registration.event_id == event.id, Registration.attended.is_(True))
        )
        or 0
    )


def _locked(event: Event, registration_ids: list[int]) -> list[Registration]:
    """The chosen registrations of ``event``, locked and read fresh, earliest first: two organizers
    acting at once queue behind each other and the second sees what the first did."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.id.in_(registration_ids))
            .order_by(Registration.created_at, Registration.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def cancel_many(event: Event, registration_ids: list[int]) -> int:
    """The organizer cancels several registrations: each person gets the cancellation (which removes
    the webinar from their calendar), freed seats go to the waitlist. Returns how many changed. Commits."""
    changed = 0
    with writing():
        for registration in _locked(event, registration_ids):
            if registration.status in (RegistrationStatus.CANCELLED, RegistrationStatus.REJECTED):
                continue
            if registration.status == RegistrationStatus.CONFIRMED:
                release_seat(event.id)
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = clock.now()
            db.session.flush()
            if registration.erased_at is None:
                notifications.send(registration, MailKind.REGISTRATION_CANCELLED)
            webhooks.emit(WebhookEventType.REGISTRATION_CANCELLED, event, registration)
            changed += 1
        if changed:
            fill_from_waitlist(event)
            audit.record(event, AuditAction.REGISTRATIONS_CANCELLED, str(changed))
        db.session.commit()
    return changed


@dataclass(frozen=True)
class Promotion:
    moved: int
    # Waitlisted people left where they were because no seat was free.
    no_seat: int


def promote_many(event: Event, registration_ids: list[int]) -> Promotion:
    """Move chosen people from the waitlist to a seat, with the invitation, while seats are free
    (the same atomic seat rule as a sign-up: an organizer who wants more people raises the capacity).
    Commits."""
    moved = no_seat = 0
    with writing():
        for registration in _locked(event, registration_ids):
            if registration.status != RegistrationStatus.WAITLISTED:
                continue
            if not take_seat(event.id):
                no_seat += 1
                continue
            _confirm(registration)
            db.session.flush()
            notifications.send(registration, MailKind.PROMOTED)
            webhooks.emit(WebhookEventType.REGISTRATION_PROMOTED, event, registration)
            moved += 1
        if moved:
            audit.record(event, AuditAction.PROMOTED, str(moved))
        db.session.commit()
    db.session.expire(event, ["seats_taken"])
    return Promotion(moved=moved, no_seat=no_seat)


def add_by_hand(
    event: Event,
    *,
    name: str,
    email: str,
    organisation: str = "",
    send_invitation: bool = True,
    locale: str = "en",
) -> Registration:
    """An organizer adds a person: a seat while seats remain, else the waitlist, whatever the
    deadline or approval mode (the organizer decided). Without ``send_invitation`` nobody is emailed,
    for people invited some other way. Raises RuleError (on ``email``) for a cancelled webinar or an
    address registered already. Commits."""
    address = normalise_email(email)
    with writing():
        if event.status == EventStatus.CANCELLED:
            raise RuleError({"email": _("The webinar is cancelled: nobody can be added.")})
        if _find(event.id, address) is not None:
            raise RuleError({"email": _("This address is registered already: search for it in the list.")})
        registration = Registration(
            event_id=event.id,
            email=address,
            name=single_line(name),
            organisation=single_line(organisation),
            consent=False,
            locale=locale,
            token=new_token(),
        )
        if take_seat(event.id):
            _confirm(registration)
        else:
            registration.status = RegistrationStatus.WAITLISTED
        db.session.add(registration)
        try:
            db.session.flush()
        except IntegrityError as error:  # added a moment ago by someone else
            db.session.rollback()
            raise RuleError(
                {"email": _("This address is registered already: search for it in the list.")}
            ) from error
        if send_invitation:
            notifications.send(registration, _STATUS_MAIL[RegistrationStatus(registration.status)])
        webhooks.emit(WebhookEventType.REGISTRATION_CREATED, event, registration)
        # The registration's number, not the person: the log outlives an erasure of their data.
        audit.record(event, AuditAction.PERSON_ADDED, f"#{registration.id}")
        db.session.commit()
    return registration
