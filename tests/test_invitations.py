"""Invitations end to end: the worker sends through a real SMTP server, and every calendar that
arrives is read by icalendar, ical.js and libical (RFC 5546 restriction check)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from tests.calendar_parsers import assert_calendar_valid
from tests.factories import JOIN_URL, edited, make_event, make_registration, make_user
from tests.helpers import by_recipient, calendar_of, html_of, text_of
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import notifications, worker
from webinars.models import OutboxMessage, OutboxStatus
from webinars.registrations import service


def deliver() -> int:
    return worker.deliver_due()


def check_structure(message: EmailMessage, *, with_calendar: bool) -> None:
    if with_calendar:
        assert message.get_content_type() == "multipart/mixed"
        alternative, attachment = message.get_payload()
        assert alternative.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in alternative.get_payload()] == [
            "text/plain",
            "text/html",
            "text/calendar",
        ]
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename() == "invite.ics"
    else:
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]


def vevent(ics: bytes):
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_confirmed_attendee_receives_a_request_invitation(mail_app, smtp_sink):
    event = make_event(capacity=5)
    registration = make_registration(event, "ane@example.org", timezone="Europe/Madrid")
    assert deliver() == 1

    (received,) = smtp_sink.received
    assert received.rcpt_tos == ["ane@example.org"]
    assert b"\r\n" in received.raw
    assert b"\n" not in received.raw.replace(b"\r\n", b"")
    message = received.parsed()
    check_structure(message, with_calendar=True)
    ics, method = calendar_of(message)
    assert method == "REQUEST"
    check = assert_calendar_valid(ics)
    assert check["icaljs"]["method"] == "REQUEST"

    calendar, vev = vevent(ics)
    assert calendar["METHOD"] == "REQUEST"
    assert str(vev["UID"]) == event.ical_uid
    assert int(vev["SEQUENCE"]) == 0
    assert vev.decoded("DTSTART") == event.starts_at
    assert vev.decoded("DTEND") == event.ends_at
    assert vev["DTSTAMP"].dt.tzinfo is not None
    assert str(vev["ORGANIZER"]).startswith("mailto:")
    attendee = vev["ATTENDEE"]
    assert str(attendee) == "mailto:ane@example.org"
    assert attendee.params["CN"] == "Ane Etxeberria"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"
    for name in ("LOCATION", "URL", "DESCRIPTION"):
        assert JOIN_URL in str(vev[name]), name
    (js_event,) = check["icaljs"]["events"]
    assert js_event["attendees"][0]["email"] == "ane@example.org"
    assert js_event["location"] == JOIN_URL

    body = text_of(message)
    assert JOIN_URL in body
    assert JOIN_URL in html_of(message)
    assert f"/r/{registration.token}" in body
    assert "(Santiago, UTC−03:00)" in body
    assert "(UTC)" in body
    assert "(Madrid, UTC+01:00)" in body  # the attendee's own zone, from their browser
    assert "calendar.google.com" in body
    assert "outlook.live.com" in body


def test_waitlisted_attendee_gets_no_invitation_and_no_join_link(mail_app, smtp_sink):
    event = make_event(capacity=1)
    make_registration(event, "first@example.org")
    waiting = make_registration(event, "second@example.org")
    deliver()
    (message,) = by_recipient(smtp_sink.messages(), "second@example.org")
    check_structure(message, with_calendar=False)
    assert JOIN_URL not in text_of(message)
    assert JOIN_URL not in html_of(message)
    assert f"/r/{waiting.token}" in text_of(message)
    assert "waitlist" in message["Subject"]


def test_promotion_and_attendee_cancellation_carry_request_and_cancel(mail_app, smtp_sink):
    event = make_event(capacity=1)
    holder = make_registration(event, "holder@example.org")
    make_registration(event, "waiting@example.org")
    deliver()
    smtp_sink.clear()

    service.cancel(holder)
    deliver()

    (cancelled,) = by_recipient(smtp_sink.messages(), "holder@example.org")
    ics, method = calendar_of(cancelled)
    assert method == "CANCEL"
    assert_calendar_valid(ics)
    calendar, vev = vevent(ics)
    assert calendar["METHOD"] == "CANCEL"
    assert vev["STATUS"] == "CANCELLED"
    assert str(vev["UID"]) == event.ical_uid
    assert JOIN_URL not in ics.decode()

    (promoted,) = by_recipient(smtp_sink.messages(), "waiting@example.org")
    ics, method = calendar_of(promoted)
    assert method == "REQUEST"
    assert_calendar_valid(ics)
    _, vev = vevent(ics)
    assert str(vev["UID"]) == event.ical_uid
    assert JOIN_URL in str(vev["LOCATION"])
    assert JOIN_URL in text_of(promoted)


def test_reschedule_sends_updated_request_with_same_uid_and_higher_sequence(mail_app, smtp_sink):
    event = make_event(capacity=5)
    make_registration(event, "ane@example.org")
    make_registration(event, "camila@example.org")
    deliver()
    first_ics, _ = calendar_of(by_recipient(smtp_sink.messages(), "ane@example.org")[0])
    _, before = vevent(first_ics)
    smtp_sink.clear()

    new_start = event.starts_at + timedelta(days=1, hours=2)
    data = edited(event, starts_at=new_start)
    assert events.update_event(event, data) is True
    deliver()

    messages = smtp_sink.messages()
    assert sorted(str(m["To"]) for m in messages) == [
        "Ane Etxeberria <ane@example.org>",
        "Ane Etxeberria <camila@example.org>",
    ]
    for message in messages:
        ics, method = calendar_of(message)
        assert method == "REQUEST"
        assert_calendar_valid(ics)
        _, after = vevent(ics)
        assert str(after["UID"]) == str(before["UID"])
        assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
        assert after.decoded("DTSTART") == new_start
        assert "Updated" in message["Subject"]


def test_change_of_capacity_only_sends_nothing(mail_app, smtp_sink):
    event = make_event(capacity=5)
    make_registration(event, "ane@example.org")
    deliver()
    smtp_sink.clear()
    data = edited(event, capacity=10)
    assert events.update_event(event, data) is False
    assert deliver() == 0
    assert event.sequence == 0


def test_webinar_cancelled_sends_cancel_to_confirmed_and_notice_to_waitlisted(mail_app, smtp_sink):
    event = make_event(capacity=1)
    make_registration(event, "confirmed@example.org")
    make_registration(event, "waiting@example.org")
    deliver()
    smtp_sink.clear()

    events.cancel_event(event)
    deliver()

    (to_confirmed,) = by_recipient(smtp_sink.messages(), "confirmed@example.org")
    ics, method = calendar_of(to_confirmed)
    assert method == "CANCEL"
    assert_calendar_valid(ics)
    _, vev = vevent(ics)
    assert vev["STATUS"] == "CANCELLED"
    assert int(vev["SEQUENCE"]) == 1
    assert str(vev["UID"]) == event.ical_uid

    (to_waiting,) = by_recipient(smtp_sink.messages(), "waiting@example.org")
    check_structure(to_waiting, with_calendar=False)
    assert "cancelled" in text_of(to_waiting)


def test_santiago_afternoon_is_the_same_instant_in_every_parser(mail_app, smtp_sink):
    owner = make_user()
    local = datetime(datetime.now().year + 1, 1, 13, 16, 0, tzinfo=ZoneInfo("America/Santiago"))
    data = events.EventData(title="Santiago", starts_at=local, timezone="America/Santiago", join_url=JOIN_URL)
    event = events.create_event(owner, data)
    events.publish(event)
    make_registration(event, "ane@example.org")
    deliver()
    expected = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert expected.endswith("T19:00:00Z")  # Chilean summer time, UTC-3

    invite, _ = calendar_of(smtp_sink.messages()[0])
    download = mail_app.test_client().get(f"/webinars/{event.slug}/calendar.ics").data
    for ics in (invite, download):
        check = assert_calendar_valid(ics)
        assert check["starts"] == [(event.ical_uid, expected)]
        assert check["libical"]["events"][0]["dtstart_utc"] == expected
        assert check["icaljs"]["events"][0]["dtstart_utc"].startswith(expected[:19])


def test_public_download_is_publish_without_attendees_or_join_link(client, app):
    event = make_event(capacity=5)
    make_registration(event, "ane@example.org")
    response = client.get(f"/webinars/{event.slug}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert b"METHOD:PUBLISH" in response.data
    assert b"ATTENDEE" not in response.data
    assert JOIN_URL.encode() not in response.data
    assert b"\r\n" in response.data
    check = assert_calendar_valid(response.data)
    assert check["icaljs"]["events"][0]["uid"] == event.ical_uid


def test_personal_download_carries_join_link_for_confirmed_only(client, app):
    event = make_event(capacity=1)
    confirmed = make_registration(event, "ane@example.org")
    waiting = make_registration(event, "bea@example.org")
    mine = client.get(f"/r/{confirmed.token}/calendar.ics").data
    assert JOIN_URL.encode() in mine
    assert_calendar_valid(mine)
    assert JOIN_URL.encode() not in client.get(f"/r/{waiting.token}/calendar.ics").data


def test_calendars_are_identical_apart_from_dtstamp(client, app, frozen_clock):
    event = make_event(capacity=5)
    first = client.get(f"/webinars/{event.slug}/calendar.ics").data
    frozen_clock.advance(minutes=7)
    second = client.get(f"/webinars/{event.slug}/calendar.ics").data
    strip = re.compile(rb"DTSTAMP:[0-9TZ]+\r\n")
    assert first != second
    assert strip.sub(b"", first) == strip.sub(b"", second)


def test_smtp_outage_delays_mail_and_loses_nothing(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=50)
    smtp_sink.stop()
    for i in range(10):
        make_registration(event, f"person{i}@example.org")

    assert deliver() == 10
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 10
    assert {row.status for row in rows} == {OutboxStatus.QUEUED}
    # The outage is not the messages' fault: they keep every attempt, and delivery pauses as a whole.
    assert all(row.attempts == 0 and row.last_error for row in rows)
    assert deliver() == 0  # nothing is claimed before the pause ends

    smtp_sink.start()
    frozen_clock.advance(seconds=mail_app.config["MAIL_RELAY_PAUSES"][0] + 1)
    assert deliver() == 10
    assert deliver() == 0
    received = smtp_sink.messages()
    assert len(received) == 10
    assert len({m["Message-ID"] for m in received}) == 10
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.received) == sorted(
        f"person{i}@example.org" for i in range(10)
    )
    db.session.expire_all()
    assert {row.status for row in db.session.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_after_the_last_retry_a_message_is_marked_failed_with_its_error(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    smtp_sink.deferred.add("ane@example.org")
    make_registration(event, "ane@example.org")
    delays = mail_app.config["MAIL_RETRY_DELAYS"]
    for delay in delays:
        deliver()
        frozen_clock.advance(seconds=delay + 1)
    deliver()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == len(delays) + 1
    assert "450" in row.last_error


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    make_registration(event, "ane@example.org")
    assert worker.claim(10)  # this worker "dies" right after claiming
    assert deliver() == 0
    frozen_clock.advance(seconds=worker.LEASE.total_seconds() + 1)
    assert deliver() == 1
    assert len(smtp_sink.received) == 1


def test_without_mail_server_messages_are_written_to_the_mail_folder(app, tmp_path):
    event = make_event(capacity=5)
    make_registration(event, "ane@example.org")
    deliver()
    folder = tmp_path / "instance" / "mail"
    files = list(folder.glob("*.eml"))
    assert len(files) == 1
    written = files[0].read_bytes()
    assert b"METHOD:REQUEST" in written or b"text/calendar" in written, "no invitation in the written message"


def test_non_ascii_names_travel_as_seven_bit_mail_and_survive(mail_app, smtp_sink):
    event = make_event(capacity=5, title="Especialización inteligente: País Vasco y Chile")
    make_registration(event, "inaki@example.org", name="Iñaki Ñúñez")
    deliver()
    (received,) = smtp_sink.received
    assert max(received.raw) < 128  # no reliance on the relay's 8BITMIME
    message = received.parsed()
    assert message["To"].addresses[0].display_name == "Iñaki Ñúñez"
    assert "Especialización" in message["Subject"]
    assert "Hello Iñaki Ñúñez" in text_of(message)
    ics, _ = calendar_of(message)
    check = assert_calendar_valid(ics)
    (js_event,) = check["icaljs"]["events"]
    assert js_event["summary"] == event.title
    assert js_event["attendees"][0]["cn"] == "Iñaki Ñúñez"


def test_header_injection_through_a_name_is_impossible(mail_app, smtp_sink):
    event = make_event(capacity=5)
    with pytest.raises(ValueError):
        make_registration(event, "ane@example.org", name="Ane\r\nBcc: victim@example.org")
    # A row from before the rule still cannot inject a header.
    registration = make_registration(event, "ane@example.org", name="Ane")
    registration.name = "Ane\r\nBcc: victim@example.org"
    db.session.commit()
    notifications.resend_invitation(registration)
    db.session.commit()
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "registration_confirmed"))
    db.session.commit()
    deliver()
    (received,) = smtp_sink.received
    assert received.rcpt_tos == ["ane@example.org"]
    assert received.parsed()["Bcc"] is None
