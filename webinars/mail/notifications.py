"""What each email says. Each function renders a message and puts it in the outbox (no commit)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from babel.units import format_unit
from flask import current_app, g, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape

from .. import clock
from ..ical import ics, links
from ..models import Broadcast, Event, MailKind, OutboxMessage, Registration, RegistrationStatus
from ..text import render_markdown
from ..urls import external_url
from .outbox import Content, Envelope, enqueue

# kind -> subject, in the recipient's language. Reminders and messages have subjects of their own.
SUBJECTS: dict[MailKind, Callable[[Event], str]] = {
    MailKind.REGISTRATION_CONFIRMED: lambda e: _("You're registered: %(title)s", title=e.full_title),
    MailKind.WAITLISTED: lambda e: _("You're on the waitlist: %(title)s", title=e.full_title),
    MailKind.PROMOTED: lambda e: _("A seat opened up, you're in: %(title)s", title=e.full_title),
    MailKind.REGISTRATION_CANCELLED: lambda e: _("Registration cancelled: %(title)s", title=e.full_title),
    MailKind.EVENT_UPDATED: lambda e: _("Updated: %(title)s", title=e.full_title),
    MailKind.EVENT_CANCELLED: lambda e: _("Cancelled: %(title)s", title=e.full_title),
    MailKind.INVITE_RESENT: lambda e: _("Your invitation: %(title)s", title=e.full_title),
    MailKind.RECORDING: lambda e: _("Recording available: %(title)s", title=e.full_title),
    MailKind.MANAGE_LINK: lambda e: _("Your registration: %(title)s", title=e.full_title),
    MailKind.REGISTRATION_PENDING: lambda e: _("We received your request: %(title)s", title=e.full_title),
    MailKind.REGISTRATION_DECLINED: lambda e: _(
        "Your request was not accepted: %(title)s", title=e.full_title
    ),
}

# Kinds that carry the invitation (METHOD:REQUEST). Only these: a reminder sent as a REQUEST would
# re-add an event the person deleted, and Outlook would show it as a new meeting request each time.
INVITE_KINDS = frozenset(
    {
        MailKind.REGISTRATION_CONFIRMED,
        MailKind.PROMOTED,
        MailKind.EVENT_UPDATED,
        MailKind.INVITE_RESENT,
    }
)
# Bulk kinds: they carry a one-click unsubscribe (RFC 8058) and are not sent to people who opted out.
BULK_KINDS = frozenset({MailKind.REMINDER, MailKind.MESSAGE, MailKind.RECORDING})
CANCEL_KINDS = frozenset({MailKind.REGISTRATION_CANCELLED, MailKind.EVENT_CANCELLED})
# Kinds worth sending only before the webinar starts; the worker withholds them afterwards.
TIMELY_KINDS = frozenset({MailKind.REMINDER})

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
    join_url = registration.join_url
    return {
        "event": event,
        "registration": registration,
        "confirmed": registration.can_join,
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
    return str(_("Starts in %(delta)s: %(title)s", delta=delta, title=event.full_title))


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
    kind: MailKind,
    *,
    broadcast: Broadcast | None = None,
    offset_minutes: int | None = None,
) -> str:
    """The subject line, in the recipient's language."""
    event = registration.event
    with in_language(registration.locale or "en"):
        if kind == MailKind.REMINDER:
            return _reminder_subject(event, offset_minutes or 0)
        if kind == MailKind.MESSAGE and broadcast is not None:
            return broadcast.subject
        return SUBJECTS[kind](event)


def render_content(
    registration: Registration, kind: MailKind, *, subject: str, broadcast: Broadcast | None = None
) -> Content:
    """Bodies, calendar and unsubscribe link of ``kind`` for one registration, as the webinar is now."""
    event = registration.event
    with in_language(registration.locale or "en"):
        values = context(registration)
        unsubscribe_url = None
        if kind in BULK_KINDS:
            unsubscribe_url = external_url("registrations.unsubscribe", token=unsubscribe_token(registration))
            values["unsubscribe_url"] = unsubscribe_url
        body_text, body_html = _bodies(kind, event, subject, broadcast, values)
        calendar_method, calendar = _calendar_for(kind, event, registration)
    return Content(
        body_text=body_text,
        body_html=body_html,
        ics_method=calendar_method,
        ics=calendar,
        unsubscribe_url=unsubscribe_url,
    )


def _bodies(
    kind: MailKind, event: Event, subject: str, broadcast: Broadcast | None, values: dict[str, Any]
) -> tuple[str, str]:
    if kind == MailKind.MESSAGE and broadcast is not None:
        values["message_html"] = render_markdown(broadcast.body_md)
        values["message_text"] = broadcast.body_md
    if kind == MailKind.RECORDING:
        values["recording_summary_html"] = render_markdown(event.recording_summary)
    body_text = render_template(f"emails/{kind}.txt", **values)
    body_html = render_template(f"emails/{kind}.html", subject=subject, **values)
    return body_text, body_html


# Stand-ins for what differs between two people who get the same email: Unicode noncharacters, which
# no name, URL or translation contains, and which HTML escaping leaves as they are.
_NAME, _MANAGE, _UNSUBSCRIBE = "\ufdd0name\ufdd0", "\ufdd0manage\ufdd0", "\ufdd0unsubscribe\ufdd0"
_STAND_INS = re.compile("\ufdd0(?:name|manage|unsubscribe)\ufdd0")


class _StandIn:
    """A registration as the shared templates see it: the name hidden behind a stand-in, and what
    else they read checked against what the shape is made of (``_SHAPED``). A template that reads
    anything more (an organisation, a token) makes its email personal: it is rendered per person."""

    def __init__(self, registration: Registration) -> None:
        self._registration = registration
        self.name = _NAME
        self.read_personal = False

    def __getattr__(self, attribute: str) -> Any:
        if attribute not in _SHAPED:
            self.read_personal = True
        return getattr(self._registration, attribute)


# What of a registration the shape of its email includes (see SharedRendering).
_SHAPED = frozenset(
    {
        "event",
        "event_id",
        "timezone",
        "locale",
        "status",
        "can_join",
        "join_url",
        "confirmed_at",
        "status_reason",
    }
)


class SharedRendering:
    """Render each email once for everyone who gets the same one, and fill in the personal parts.

    Two people get the same email when it is of the same kind, for the same webinar (as loaded
    for this batch), in the same language, with the same subject, and what the templates show
    besides the name and the links only they hold is the same: their zone, status, whether they may
    join, whether they had an invitation. The templates are rendered once with stand-ins for the
    name, the manage link and the unsubscribe link; each message then replaces the stand-ins in one
    pass (HTML-escaped in the HTML body, as Jinja would). The calendar is readdressed (see
    ``ics.readdressed``). A template that reads more of the registration than the shape holds, or
    transforms a stand-in (a piece of one then stays behind), is rendered per person instead: a
    template change can cost speed, never correctness.

    Lives as long as one batch: the webinar it renders is the one the batch loaded.
    """

    def __init__(self) -> None:
        self._bodies: dict[tuple[object, ...], tuple[str, str] | None] = {}
        # (method, the document, its ATTENDEE line) by kind, webinar, language and second.
        self._calendars: dict[tuple[object, ...], tuple[str, bytes, bytes]] = {}

    def content(
        self,
        registration: Registration,
        kind: MailKind,
        *,
        subject: str,
        broadcast: Broadcast | None = None,
    ) -> Content:
        event = registration.event
        locale = registration.locale or "en"
        shape = (
            kind,
            event.id,
            locale,
            subject,
            broadcast.id if broadcast else None,
            registration.timezone,
            registration.status,
            registration.can_join,
            registration.confirmed_at is not None,  # templates only ask whether there was one
            registration.status_reason,
        )
        with in_language(locale):
            if shape not in self._bodies:
                values = context(registration)
                stand_in = _StandIn(registration)
                values["registration"] = stand_in
                values["manage_url"] = _MANAGE
                if kind in BULK_KINDS:
                    values["unsubscribe_url"] = _UNSUBSCRIBE
                bodies = _bodies(kind, event, subject, broadcast, values)
                mangled = any("\ufdd0" in _STAND_INS.sub("", body) for body in bodies)
                self._bodies[shape] = None if stand_in.read_personal or mangled else bodies
            shared = self._bodies[shape]
            if shared is None:
                return render_content(registration, kind, subject=subject, broadcast=broadcast)
            shared_text, shared_html = shared
            manage_url = external_url("registrations.manage", token=registration.token)
            unsubscribe_url = None
            if kind in BULK_KINDS:
                unsubscribe_url = external_url(
                    "registrations.unsubscribe", token=unsubscribe_token(registration)
                )
            personal = {_NAME: registration.name, _MANAGE: manage_url, _UNSUBSCRIBE: unsubscribe_url or ""}
            body_text = _fill(shared_text, personal)
            body_html = _fill(shared_html, {key: str(escape(value)) for key, value in personal.items()})
            calendar_method, calendar = self._calendar(kind, event, registration, locale)
        return Content(
            body_text=body_text,
            body_html=body_html,
            ics_method=calendar_method,
            ics=calendar,
            unsubscribe_url=unsubscribe_url,
        )

    def _calendar(
        self, kind: MailKind, event: Event, registration: Registration, locale: str
    ) -> tuple[str | None, bytes | None]:
        """As ``_calendar_for``; a calendar built for someone else this second is readdressed."""
        stamp = clock.now().replace(microsecond=0)
        had_invite = registration.confirmed_at is not None
        key = (kind, event.id, locale, stamp, had_invite)
        cached = self._calendars.get(key)
        if cached is not None:
            method, document, line = cached
            readdressed = ics.readdressed(document, line, registration)
            if readdressed is not None:
                return method, readdressed
        method_or_none, document_or_none = _calendar_for(kind, event, registration)
        if method_or_none is not None and document_or_none is not None:
            line = ics.attendee_line(registration, reply_wanted=method_or_none == "REQUEST")
            self._calendars[key] = (method_or_none, document_or_none, line)
        return method_or_none, document_or_none


def _fill(shared: str, personal: dict[str, str]) -> str:
    # One pass: a name that looks like a stand-in is left as the person wrote it.
    return _STAND_INS.sub(lambda match: personal[match.group(0)], shared)


def render(
    registration: Registration,
    kind: MailKind,
    *,
    broadcast: Broadcast | None = None,
    offset_minutes: int | None = None,
) -> dict[str, Any]:
    """The whole message at once (previews): subject and content."""
    subject = subject_for(registration, kind, broadcast=broadcast, offset_minutes=offset_minutes)
    content = render_content(registration, kind, subject=subject, broadcast=broadcast)
    return {"subject": subject, **content.columns()}


def send(
    registration: Registration,
    kind: MailKind,
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
        Envelope(
            kind=kind,
            recipient=registration.email,
            recipient_name=registration.name,
            subject=subject_for(registration, kind, broadcast=broadcast, offset_minutes=offset_minutes),
            event_id=registration.event_id,
            registration_id=registration.id,
            broadcast_id=broadcast.id if broadcast else None,
        )
    )


def resend_invitation(registration: Registration) -> OutboxMessage:
    """The invitation again for a confirmed person, or their current status otherwise."""
    kind = {
        RegistrationStatus.CONFIRMED: MailKind.INVITE_RESENT,
        RegistrationStatus.PENDING: MailKind.REGISTRATION_PENDING,
        RegistrationStatus.REJECTED: MailKind.REGISTRATION_DECLINED,
    }.get(RegistrationStatus(registration.status), MailKind.WAITLISTED)
    return send(registration, kind)


def _calendar_for(
    kind: MailKind, event: Event, registration: Registration
) -> tuple[str | None, bytes | None]:
    stamp = clock.now()
    had_invite = registration.confirmed_at is not None  # waitlisted people never got one to cancel
    if kind in INVITE_KINDS:
        return "REQUEST", ics.request(event, registration, stamp=stamp).to_ical()
    if kind in CANCEL_KINDS and had_invite:
        return "CANCEL", ics.cancel(event, registration, stamp=stamp).to_ical()
    return None, None
