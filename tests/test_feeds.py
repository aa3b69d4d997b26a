"""Subscribable calendars and the Atom feed: read by icalendar, ical.js and libical; cached with ETags."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from icalendar import Calendar, vDuration
from sqlalchemy import select

from tests.calendar_parsers import assert_calendar_valid
from tests.factories import JOIN_URL, edited, make_event, make_series, make_user
from tests.helpers import assert_same_count, statements_of_get
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import OutboxMessage
from webinars.registrations import service as registrations

ATOM = "{http://www.w3.org/2005/Atom}"


def vevents(body: bytes) -> dict[str, object]:
    return {str(v["UID"]): v for v in Calendar.from_ical(body).walk("VEVENT")}


def test_site_feed_is_a_valid_subscribable_calendar(client, app):
    organizer = make_user()
    series = make_series(organizer)
    published = make_event(organizer, series_id=series.id, tags=["SDG 13 Climate action"])
    draft = make_event(organizer, title="Draft", publish=False)

    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    body = response.data
    check = assert_calendar_valid(body)

    assert check["icaljs"]["method"] == "PUBLISH"
    assert check["icaljs"]["name"] == "Webinars"
    assert check["icaljs"]["refresh_interval"] == "PT1H"
    assert b"\r\nNAME:Webinars\r\n" in body
    assert b"\r\nX-WR-CALNAME:Webinars\r\n" in body
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert b"\r\nSOURCE;VALUE=URI:http://webinars.test/calendar.ics\r\n" in body
    calendar = check["icalendar"]
    assert vDuration.from_ical(str(calendar["X-PUBLISHED-TTL"])) == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)

    found = vevents(body)
    assert set(found) == {published.ical_uid}
    assert draft.ical_uid not in found
    vevent = found[published.ical_uid]
    assert vevent.decoded("DTSTART") == published.starts_at
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent.decoded("DTSTAMP") == published.updated_at.replace(
        microsecond=0
    )  # stable: the same data, the same bytes
    assert set(vevent["CATEGORIES"].cats) == {"Smart Regions", "SDG 13 Climate action"}
    assert "ATTENDEE" not in vevent
    assert JOIN_URL.encode() not in body  # the join link is for confirmed attendees only


def test_cancelled_webinar_stays_in_the_feed_with_status_and_sequence(client, app):
    kept = make_event()
    cancelled = make_event(title="Cancelled one", starts_in=timedelta(days=9))
    events.cancel_event(cancelled)
    never_announced = make_event(title="Never announced", publish=False)
    events.cancel_event(never_announced)

    body = client.get("/calendar.ics").data
    check = assert_calendar_valid(body)
    by_uid = {e["uid"]: e for e in check["icaljs"]["events"]}
    assert set(by_uid) == {kept.ical_uid, cancelled.ical_uid}
    assert by_uid[cancelled.ical_uid]["status"] == "CANCELLED"
    assert cancelled.sequence == 1
    assert by_uid[cancelled.ical_uid]["sequence"] == cancelled.sequence
    assert by_uid[kept.ical_uid]["status"] == "CONFIRMED"
    libical = {e["uid"]: e for e in check["libical"]["events"]}
    assert libical[cancelled.ical_uid]["sequence"] == 1


def test_feed_and_invitation_share_the_uid(client, app):
    event = make_event(capacity=10)
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    worker.deliver_due()  # renders the invitation (into the instance's mail folder)
    invite = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ics.is_not(None)))
    (invited,) = Calendar.from_ical(invite.ics).walk("VEVENT")

    feed = vevents(client.get("/calendar.ics").data)
    assert str(invited["UID"]) == event.ical_uid
    assert set(feed) == {event.ical_uid}
    series_free = vevents(client.get(f"/webinars/{event.slug}/calendar.ics").data)
    assert set(series_free) == {event.ical_uid}


def test_feed_window_starts_90_days_ago(client, app, frozen_clock):
    old = make_event(title="Old", starts_in=timedelta(days=1))
    recent = make_event(title="Recent", starts_in=timedelta(days=10))
    frozen_clock.advance(days=95)
    uids = set(vevents(client.get("/calendar.ics").data))
    assert uids == {recent.ical_uid}
    assert old.ical_uid not in uids


def test_series_feed_holds_only_its_series(client, app):
    organizer = make_user()
    series = make_series(organizer)
    make_series(organizer, title="Other")
    inside = make_event(organizer, series_id=series.id)
    make_event(organizer, title="Outside")

    response = client.get(f"/series/{series.slug}/calendar.ics")
    assert response.status_code == 200
    check = assert_calendar_valid(response.data)
    assert [e["uid"] for e in check["icaljs"]["events"]] == [inside.ical_uid]
    assert check["icaljs"]["name"] == "Smart Regions · Webinars"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.data
    assert b"X-PUBLISHED-TTL:PT1H" in response.data

    empty = client.get("/series/other/calendar.ics")
    assert empty.status_code == 200
    assert Calendar.from_ical(empty.data).walk("VEVENT") == []
    assert client.get("/series/no-such-series/calendar.ics").status_code == 404


@pytest.mark.parametrize(
    "url", ["/calendar.ics", "/series/smart-regions/calendar.ics", "/feeds/webinars.atom"]
)
def test_a_repeated_conditional_get_answers_304(client, app, url):
    organizer = make_user()
    series = make_series(organizer)
    event = make_event(organizer, series_id=series.id)

    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200
    assert etag
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(url)
    assert again.headers["ETag"] == etag
    assert again.data == first.data  # deterministic

    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag

    # A registration changes nothing a calendar shows: the ETag holds.
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    db.session.expire_all()  # as a new request would see it (the seat count moved updated_at)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    # A new title does: the next conditional GET gets the new feed.
    data = edited(event, title="A new title")
    events.update_event(event, data)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"A new title" in changed.data


def test_feeds_run_a_constant_number_of_queries(client, app):
    organizer = make_user()
    series = make_series(organizer)
    series_id = series.id
    make_event(organizer, series_id=series_id, tags=["SDG 9"])
    urls = ["/calendar.ics", f"/series/{series.slug}/calendar.ics", "/feeds/webinars.atom"]
    few = {url: statements_of_get(client, url) for url in urls}
    for i in range(5):
        other = make_user()
        make_event(other, series_id=series_id, tags=[f"SDG {i}"], starts_in=timedelta(days=8 + i))
    many = {url: statements_of_get(client, url) for url in urls}
    for url in urls:
        assert_same_count(few[url], many[url], what=url)
        # the calendars read a version first, then build (a cache miss here, which also reads the
        # site's name from the administrator's settings)
        assert len(few[url]) <= 8, "\n".join([f"{url}: {len(few[url])} statements", *few[url]])


def test_an_unchanged_feed_is_served_from_the_cache_and_a_change_rebuilds_it(client, app):
    organizer = make_user()
    event = make_event(organizer, title="Cached webinar")
    first = client.get("/calendar.ics")
    on_hit = statements_of_get(client, "/calendar.ics")
    assert len(on_hit) == 1, f"a cache hit should only read the version: {on_hit}"
    second = client.get("/calendar.ics")
    assert first.data == second.data

    data = edited(event, title="Renamed webinar")
    events.update_event(event, data)
    changed = client.get("/calendar.ics")
    assert b"SUMMARY;LANGUAGE=en:Renamed webinar" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]
    event_two = make_event(organizer, title="Another one", starts_in=timedelta(days=9))
    assert event_two.title.encode() in client.get("/calendar.ics").data


def test_atom_feed_lists_newly_announced_webinars(client, app, frozen_clock):
    organizer = make_user()
    series = make_series(organizer)
    first = make_event(organizer, title="First <announced>", series_id=series.id, tags=["SDG 9"])
    frozen_clock.advance(hours=1)
    second = make_event(organizer, title="Second announced")
    frozen_clock.advance(hours=1)
    make_event(organizer, title="Still a draft", publish=False)
    cancelled = make_event(organizer, title="Called off")
    events.cancel_event(cancelled)

    response = client.get("/feeds/webinars.atom")
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}id").text
    assert feed.find(f"{ATOM}updated").text.endswith("Z")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://webinars.test/feeds/webinars.atom"
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles == ["Cancelled: Called off", "Second announced", "First <announced>"]  # newest first
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 3
    assert all(i.startswith("tag:webinars.test,") for i in ids), ids
    oldest = entries[-1]
    assert oldest.find(f"{ATOM}link").get("href") == f"http://webinars.test/webinars/{first.slug}"
    assert {c.get("term") for c in oldest.findall(f"{ATOM}category")} == {"series:smart-regions", "sdg-9"}
    assert "<strong>smart specialisation</strong>" in oldest.find(f"{ATOM}content").text
    assert "Webinar #1 · Smart Regions" in oldest.find(f"{ATOM}summary").text
    assert [c.find(f"{ATOM}name").text for c in oldest.findall(f"{ATOM}contributor")] == [
        "Ane Etxeberria",
        "Camila Rojas",
    ]
    assert JOIN_URL.encode() not in response.data
    assert second.slug.encode() in response.data


def test_empty_feeds_are_still_valid(client, app):
    body = client.get("/calendar.ics").data
    assert Calendar.from_ical(body).walk("VEVENT") == []
    assert b"X-PUBLISHED-TTL:PT1H" in body
    feed = ET.fromstring(client.get("/feeds/webinars.atom").data)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.find(f"{ATOM}updated").text == "2000-01-01T00:00:00Z"
