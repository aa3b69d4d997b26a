"""What each email says. Each function renders a message and puts it in the outbox (no commit)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import clock
from ..calendar import ics, links
from ..models import Event, OutboxMessage, Registration, RegistrationStatus
from ..urls import external_url
from .outbox import enqueue

# kind -> subject, in the recipient's language.
SUBJECTS = {
    "registration_confirmed": lambda e: _("You're registered: %(title)s", title=e.title),
    "waitlisted": lambda e: _("You're on the waitlist: %(title)s", title=e.title),
    "promoted": lambda e: _("A seat opened up, you're in: %(title)s", title=e.title),
    "registration_cancelled": lambda e: _("Registration cancelled: %(title)s", title=e.title),
    "event_updated": lambda e: _("Updated: %(title)s", title=e.title),
    "event_cancelled": lambda e: _("Cancelled: %(title)s", title=e.title),
    "invite_resent": lambda e: _("Your invitation: %(title)s", title=e.title),
}

# kinds that carry the invitation (REQUEST) and therefore the join link
INVITE_KINDS = {"registration_confirmed", "promoted", "event_updated", "invite_resent"}


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


def send(registration: Registration, kind: str, *, dedupe_key: str | None = None) -> OutboxMessage:
    """Render ``kind`` for one registration and enqueue it, with the right calendar part."""
    event = registration.event
    with force_locale(registration.locale or "en"):
        values = context(registration)
        subject = SUBJECTS[kind](event)
        body_text = render_template(f"emails/{kind}.txt", **values)
        body_html = render_template(f"emails/{kind}.html", subject=subject, **values)
        calendar_method, calendar = _calendar_for(kind, event, registration)
    return enqueue(
        kind=kind,
        recipient=registration.email,
        recipient_name=registration.name,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        ics_method=calendar_method,
        ics=calendar,
        event_id=event.id,
        registration_id=registration.id,
        dedupe_key=dedupe_key,
    )


def _calendar_for(kind: str, event: Event, registration: Registration) -> tuple[str | None, bytes | None]:
    stamp = clock.now()
    had_invite = registration.confirmed_at is not None  # waitlisted people never got one to cancel
    if kind in INVITE_KINDS:
        return "REQUEST", ics.request(event, registration, stamp=stamp).to_ical()
    if kind in ("registration_cancelled", "event_cancelled") and had_invite:
        return "CANCEL", ics.cancel(event, registration, stamp=stamp).to_ical()
    return None, None
