"""iCalendar documents for one webinar: PUBLISH (downloads, feeds), REQUEST (invites), CANCEL.

Times are written in UTC (``...Z``): every client reads them the same way and no VTIMEZONE is
needed, which avoids Outlook's trouble with generated time zone blocks. Output is deterministic:
the same webinar gives the same bytes apart from DTSTAMP.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, vCalAddress, vText
from icalendar import Event as VEvent

from ..models import Event, Registration
from ..text import ascii_address, clean_text, display_name, single_line
from ..urls import external_url

PRODID = "-//Webinars//Webinars calendar//EN"


def new_calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def organizer_address(event: Event) -> vCalAddress:
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    organizer = vCalAddress(f"mailto:{ascii_address(address) if address else 'webinars@localhost'}")
    organizer.params["CN"] = vText(display_name(event.owner.name if event.owner else name) or "Webinars")
    return organizer


def attendee_address(registration: Registration, *, reply_wanted: bool = True) -> vCalAddress:
    """The ATTENDEE line. A cancellation keeps PARTSTAT but asks for no reply (RFC 5546 3.2.5)."""
    attendee = vCalAddress(f"mailto:{ascii_address(single_line(registration.email))}")
    attendee.params["CN"] = vText(display_name(registration.name))
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    if reply_wanted:
        attendee.params["RSVP"] = "TRUE"
    return attendee


def build_vevent(event: Event, *, stamp: datetime, private: bool, cancelled: bool = False) -> VEvent:
    """The VEVENT for a webinar. ``private`` adds the join link (only for confirmed attendees)."""
    page_url = external_url("events.detail", slug=event.slug)
    vevent = VEvent()
    vevent.add("uid", event.ical_uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    # Older rows may hold control characters the forms now refuse: they are dropped here, never raised.
    vevent.add("summary", single_line(event.title))
    join_url = single_line(event.join_url).replace(" ", "%20")
    lines = [clean_text(event.summary)] if event.summary else []
    if private and join_url:
        lines.append(_("Join: %(url)s", url=join_url))
    lines.append(_("Details: %(url)s", url=page_url))
    vevent.add("description", "\n\n".join(lines))
    location = join_url if private and join_url else page_url
    vevent.add("location", location)
    vevent.add("url", location)
    vevent.add("status", "CANCELLED" if cancelled or event.is_cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("organizer", organizer_address(event))
    return vevent


def publish(events: list[Event], *, stamp: datetime, name: str | None = None) -> Calendar:
    """METHOD:PUBLISH for downloads and feeds: no attendees, no join link."""
    calendar = new_calendar("PUBLISH")
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(build_vevent(event, stamp=stamp, private=False))
    return calendar


def request(event: Event, registration: Registration, *, stamp: datetime) -> Calendar:
    """METHOD:REQUEST: the personal invitation, with the join link."""
    calendar = new_calendar("REQUEST")
    vevent = build_vevent(event, stamp=stamp, private=True)
    vevent.add("attendee", attendee_address(registration))
    calendar.add_component(vevent)
    return calendar


def cancel(event: Event, registration: Registration, *, stamp: datetime) -> Calendar:
    """METHOD:CANCEL, for a cancelled webinar or an attendee who cancelled."""
    calendar = new_calendar("CANCEL")
    vevent = build_vevent(event, stamp=stamp, private=False, cancelled=True)
    vevent.add("attendee", attendee_address(registration, reply_wanted=False))
    calendar.add_component(vevent)
    return calendar


_BEGIN, _END = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"


def attendee_line(registration: Registration, *, reply_wanted: bool = True) -> bytes:
    """The ATTENDEE content line of ``registration`` as a whole document carries it (folded)."""
    holder = VEvent()
    holder.add("attendee", attendee_address(registration, reply_wanted=reply_wanted))
    document: bytes = holder.to_ical()
    return document[len(_BEGIN) : -len(_END)]


def readdressed(document: bytes, line: bytes, registration: Registration) -> bytes | None:
    """``document`` (a REQUEST or CANCEL whose ATTENDEE content line is ``line``) for another
    attendee; None when ``line`` is not in it exactly once.

    Everything in an invitation but its ATTENDEE line is the same for everyone invited at the same
    second (DTSTAMP has whole seconds), and content lines are folded one by one: the line can be
    swapped without building and serialising the whole calendar again.
    """
    if document.count(line) != 1:
        return None
    reply_wanted = b"RSVP=TRUE" in line
    return document.replace(line, attendee_line(registration, reply_wanted=reply_wanted))
