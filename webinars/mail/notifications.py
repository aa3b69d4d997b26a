"""What each email says. Each function renders a message and puts it in the outbox (no commit)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from babel.units import format_unit
from flask import current_app, g, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from .. import clock
from ..calendar import ics, links
from ..models import Broadcast, Event, OutboxMessage, Registration, RegistrationStatus
from ..text import render_markdown
from ..urls import external_url
from .outbox import enqueue

# kind -> subject, in the recipient's language.
SUBJECTS = {
    "registration_confirmed": lambda e: _("You're registered: %(title)s", title=e.full_title),
    "waitlisted": lambda e: _("You're on the waitlist: %(title)s", title=e.full_title),
    "promoted": lambda e: _("A seat opened up, you're in: %(title)s", title=e.full_title),
    "registration_cancelled": lambda e: _("Registration cancelled: %(title)s", title=e.full_title),
    "event_updated": lambda e: _("Updated: %(title)s", title=e.full_title),
    "event_cancelled": lambda e: _("Cancelled: %(title)s", title=e.full_title),
    "invite_resent": lambda e: _("Your invitation: %(title)s", title=e.full_title),
    "recording": lambda e: _("Recording available: %(title)s", title=e.full_title),
    "manage_link": lambda e: _("Your registration: %(title)s", title=e.full_title),
    "registration_pending": lambda e: _("We received your request: %(title)s", title=e.full_title),
    "registration_declined": lambda e: _("Your request was not accepted: %(title)s", title=e.full_title),
}

# Kinds that carry the invitation (METHOD:REQUEST). Only these: a reminder sent as a REQUEST would
# re-add an event the person deleted, and Outlook would show it as a new meeting request each time.
INVITE_KINDS = {"registration_confirmed", "promoted", "event_updated", "invite_resent"}
# Bulk kinds: they carry a one-click unsubscribe (RFC 8058) and are not sent to people who opted out.
BULK_KINDS = {"reminder", "message", "recording"}
# Kinds worth sending only before the webinar starts; the worker withholds them afterwards.
TIMELY_KINDS = {"reminder"}

_UNSUBSCRIBE_SALT = "webinars-unsubscribe"


def unsubscribe_token(registration: Registration) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).dumps(registration.id)


def registration_id_from_unsubscribe(token: str) -> int | None:
    try:
        value = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def context(registration: Registration) -> dict[str, Any]:
    event = registration.event
    confirmed = registration.status == RegistrationStatus.CONFIRMED and not event.is_cancelled
    join_url = event.join_url if confirmed else None
    return {
        "event": event,
        "registration": registration,
        "confirmed": confirmed,
        "join_url": join_url,
        "manage_url": external_url("registrations.manage", token=registration.token),
        "page_url": external_url("events.detail", slug=event.slug),
        "ics_url": external_url("calendar.event_ics", slug=event.slug),
        "google_url": links.google_url(event, join_url),
        "outlook_url": links.outlook_url(event, join_url),
    }


def _reminder_subject(event: Event, offset_minutes: int) -> str:
    # The largest whole unit: 1440 -> "1 day", 60 -> "1 hour", 90 -> "90 minutes". Whole days go
    # through format_timedelta: CLDR has no singular duration-day unit for Portuguese.
    locale = str(get_locale() or "en")
    if offset_minutes % 1440 == 0:
        delta = format_timedelta(timedelta(days=offset_minutes // 1440), threshold=1, locale=locale)
    elif offset_minutes % 60 == 0:
        delta = format_unit(offset_minutes // 60, "duration-hour", length="long", locale=locale)
    else:
        delta = format_unit(offset_minutes, "duration-minute", length="long", locale=locale)
    return _("Starts in %(delta)s: %(title)s", delta=delta, title=event.full_title)


@contextmanager
def in_language(code: str) -> Iterator[None]:
    """Render in ``code``. Flask-Babel ignores force_locale while flask.g is empty, as it is in the
    worker's long-lived app context, so give it something first."""
    if not g:
        g.webinars_rendering = True
    with force_locale(code):
        yield


def subject_for(
    registration: Registration,
    kind: str,
    *,
    broadcast: Broadcast | None = None,
    offset_minutes: int | None = None,
) -> str:
    """The subject line, in the recipient's language."""
    event = registration.event
    with in_language(registration.locale or "en"):
        if kind == "reminder":
            return _reminder_subject(event, offset_minutes or 0)
        if kind == "message" and broadcast is not None:
            return broadcast.subject
        return SUBJECTS[kind](event)


def render_content(
    registration: Registration, kind: str, *, subject: str, broadcast: Broadcast | None = None
) -> dict[str, Any]:
    """Bodies, calendar and unsubscribe link of ``kind`` for one registration, as the webinar is now."""
    event = registration.event
    with in_language(registration.locale or "en"):
        values = context(registration)
        unsubscribe_url = None
        if kind in BULK_KINDS:
            unsubscribe_url = external_url("registrations.unsubscribe", token=unsubscribe_token(registration))
            values["unsubscribe_url"] = unsubscribe_url
        if kind == "message" and broadcast is not None:
            values["message_html"] = render_markdown(broadcast.body_md)
            values["message_text"] = broadcast.body_md
        if kind == "recording":
            values["recording_summary_html"] = render_markdown(event.recording_summary)
        body_text = render_template(f"emails/{kind}.txt", **values)
        body_html = render_template(f"emails/{kind}.html", subject=subject, **values)
        calendar_method, calendar = _calendar_for(kind, event, registration)
    return {
        "body_text": body_text,
        "body_html": body_html,
        "ics_method": calendar_method,
        "ics": calendar,
        "unsubscribe_url": unsubscribe_url,
    }


def render(
    registration: Registration,
    kind: str,
    *,
    broadcast: Broadcast | None = None,
    offset_minutes: int | None = None,
) -> dict[str, Any]:
    """The whole message at once (previews): subject and content."""
    subject = subject_for(registration, kind, broadcast=broadcast, offset_minutes=offset_minutes)
    return {"subject": subject, **render_content(registration, kind, subject=subject, broadcast=broadcast)}


def send(
    registration: Registration,
    kind: str,
    *,
    broadcast: Broadcast | None = None,
    offset_minutes: int | None = None,
) -> OutboxMessage:
    """Put ``kind`` for one registration in the outbox (the caller commits).

    Only the subject is written now; the worker renders the bodies and the calendar when it sends,
    from the webinar as it is then. That keeps requests (a sign-up, a reschedule to 500 people)
    short, and an invitation sent late never carries an outdated time.
    """
    return enqueue(
        kind=kind,
        recipient=registration.email,
        recipient_name=registration.name,
        subject=subject_for(registration, kind, broadcast=broadcast, offset_minutes=offset_minutes),
        event_id=registration.event_id,
        registration_id=registration.id,
        broadcast_id=broadcast.id if broadcast else None,
    )


def resend_invitation(registration: Registration) -> OutboxMessage:
    """The invitation again for a confirmed person, or their current status otherwise."""
    kind = {
        RegistrationStatus.CONFIRMED: "invite_resent",
        RegistrationStatus.PENDING: "registration_pending",
        RegistrationStatus.REJECTED: "registration_declined",
    }.get(RegistrationStatus(registration.status), "waitlisted")
    return send(registration, kind)


def _calendar_for(kind: str, event: Event, registration: Registration) -> tuple[str | None, bytes | None]:
    stamp = clock.now()
    had_invite = registration.confirmed_at is not None  # waitlisted people never got one to cancel
    if kind in INVITE_KINDS:
        return "REQUEST", ics.request(event, registration, stamp=stamp).to_ical()
    if kind in ("registration_cancelled", "event_cancelled") and had_invite:
        return "CANCEL", ics.cancel(event, registration, stamp=stamp).to_ical()
    return None, None
