"""Self-tests for the independent-parser harness (icalendar / ical.js / libical)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, vCalAddress

from tests.calendar_parsers import CalendarParseError, assert_calendar_valid, icaljs_parse, libical_check

STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 15, 19, 0, tzinfo=UTC)
END = datetime(2026, 12, 15, 20, 0, tzinfo=UTC)
ORGANIZER = vCalAddress.new("host@example.com", cn="Webinar Host")


def _calendar(method: str, *events: Event) -> Calendar:
    cal = Calendar.new(prodid="-//Webinars//Tests//EN", method=method, name="Webinars")
    for event in events:
        cal.add_component(event)
    return cal


def _event(**kwargs: Any) -> Event:
    fields: dict[str, Any] = {
        "uid": "webinar-1@example.com",
        "summary": "Intro to Flask",
        "stamp": STAMP,
        "start": START,
        "end": END,
        "organizer": ORGANIZER,
    }
    fields.update(kwargs)
    return Event.new(**fields)


def test_publish_utc_event() -> None:
    cal = _calendar("PUBLISH", _event(url="https://example.com/webinars/1", location="Online"))
    result = assert_calendar_valid(cal.to_ical())

    js = result["icaljs"]
    assert js["method"] == "PUBLISH"
    assert js["name"] == "Webinars"
    (event,) = js["events"]
    assert event["summary"] == "Intro to Flask"
    assert event["url"] == "https://example.com/webinars/1"
    assert event["location"] == "Online"
    assert event["organizer"] == "host@example.com"
    assert (event["dtstart_utc"], event["dtend_utc"]) == ("2026-12-15T19:00:00Z", "2026-12-15T20:00:00Z")
    assert event["tzid"] is None
    assert result["libical"]["method"] == "PUBLISH"
    assert result["starts"] == [("webinar-1@example.com", "2026-12-15T19:00:00Z")]


def test_request_with_attendee() -> None:
    attendee = vCalAddress.new(
        "ann@example.com", cn="Ann Attendee", role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp=True
    )
    cal = _calendar("REQUEST", _event(attendees=[attendee], sequence=3, status="CONFIRMED"))
    result = assert_calendar_valid(cal.to_ical())

    (event,) = result["icaljs"]["events"]
    assert event["sequence"] == 3
    assert event["status"] == "CONFIRMED"
    assert (event["organizer"], event["organizer_cn"]) == ("host@example.com", "Webinar Host")
    assert event["attendees"] == [
        {
            "email": "ann@example.com",
            "cn": "Ann Attendee",
            "role": "REQ-PARTICIPANT",
            "partstat": "NEEDS-ACTION",
            "rsvp": True,
        }
    ]
    assert result["libical"]["events"][0]["sequence"] == 3


def test_tzid_with_generated_vtimezone() -> None:
    santiago = ZoneInfo("America/Santiago")
    start = datetime(2026, 12, 15, 16, 0, tzinfo=santiago)
    cal = _calendar("PUBLISH", _event(start=start, end=datetime(2026, 12, 15, 17, 0, tzinfo=santiago)))
    cal.add_missing_timezones()
    ics = cal.to_ical()
    assert b"DTSTART;TZID=America/Santiago:20261215T160000" in ics
    assert b"BEGIN:VTIMEZONE" in ics

    result = assert_calendar_valid(ics)
    # Chilean summer time is UTC-3: icalendar (zoneinfo), ical.js and libical
    # (both from the embedded VTIMEZONE) must agree on 19:00Z.
    assert result["starts"] == [("webinar-1@example.com", "2026-12-15T19:00:00Z")]
    (event,) = result["icaljs"]["events"]
    assert (event["tzid"], event["start_is_floating"]) == ("America/Santiago", False)
    assert event["dtend_utc"] == "2026-12-15T20:00:00Z"
    assert result["libical"]["events"][0]["tzid"] == "America/Santiago"


def test_tzid_without_vtimezone_is_rejected() -> None:
    start = datetime(2026, 12, 15, 16, 0, tzinfo=ZoneInfo("America/Santiago"))
    ics = _calendar("PUBLISH", _event(start=start, end=None)).to_ical()
    assert b"VTIMEZONE" not in ics
    # ical.js has no built-in zone database: an undefined TZID degrades to floating.
    assert icaljs_parse(ics)["events"][0]["start_is_floating"] is True
    with pytest.raises(AssertionError, match="America/Santiago"):
        assert_calendar_valid(ics)


def test_cancel() -> None:
    cal = _calendar("CANCEL", _event(sequence=4, status="CANCELLED"))
    result = assert_calendar_valid(cal.to_ical())
    (event,) = result["icaljs"]["events"]
    assert (event["status"], event["sequence"]) == ("CANCELLED", 4)
    assert result["libical"]["method"] == "CANCEL"


def test_broken_request_is_flagged() -> None:
    """REQUEST without ORGANIZER violates RFC 5546 3.2.2: the check is not vacuous."""
    attendee = vCalAddress.new("ann@example.com", rsvp=True)
    ics = _calendar("REQUEST", _event(organizer=None, attendees=[attendee], sequence=0)).to_ical()

    report = libical_check(ics)
    assert report["restriction_ok"] is False
    assert any("ORGANIZER" in error for error in report["errors"]), report["errors"]
    with pytest.raises(AssertionError, match="ORGANIZER"):
        assert_calendar_valid(ics)


def test_unparseable_input() -> None:
    with pytest.raises(CalendarParseError):
        icaljs_parse(b"this is not a calendar\r\n")
    assert libical_check(b"BEGIN:VCALENDAR\r\n")["errors"]
