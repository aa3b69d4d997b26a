"""Series: numbering, recurring schedules across daylight-saving changes, public and organizer pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import make_event, make_series, make_user
from tests.helpers import submit
from webinars.events import queries
from webinars.extensions import db
from webinars.models import Event, EventStatus, Registration, Series
from webinars.registrations import service as registrations
from webinars.rules import RuleError
from webinars.series import service

SANTIAGO = ZoneInfo("America/Santiago")
MADRID = ZoneInfo("Europe/Madrid")


# --- occurrences: pure rules, no database ---------------------------------------------------------


def test_six_fortnightly_tuesdays_keep_16_00_across_the_april_change_in_santiago():
    # Chile leaves summer time on Sunday 4 April 2027 (UTC-3 -> UTC-4).
    starts = service.occurrences(datetime(2027, 3, 16, 16, 0), "weekly", 2, 6, "America/Santiago")

    assert len(starts) == 6
    assert all(start.tzinfo is UTC for start in starts), starts
    local = [start.astimezone(SANTIAGO) for start in starts]
    assert [moment.date() for moment in local] == [
        date(2027, 3, 16),
        date(2027, 3, 30),
        date(2027, 4, 13),
        date(2027, 4, 27),
        date(2027, 5, 11),
        date(2027, 5, 25),
    ]
    assert {(moment.hour, moment.minute) for moment in local} == {(16, 0)}
    assert [moment.weekday() for moment in local] == [1] * 6  # Tuesdays
    assert [start.hour for start in starts] == [19, 19, 20, 20, 20, 20]  # 16:00 -03, then 16:00 -04


def test_an_aware_first_start_keeps_its_wall_clock_time_in_the_given_zone():
    aware = datetime(2027, 3, 16, 16, 0, tzinfo=UTC)
    assert service.occurrences(aware, "weekly", 1, 1, SANTIAGO) == [datetime(2027, 3, 16, 19, 0, tzinfo=UTC)]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months():
    starts = service.occurrences(datetime(2027, 1, 31, 10, 0), "monthly", 1, 4, "Europe/Madrid")
    local = [start.astimezone(MADRID) for start in starts]
    assert [moment.date() for moment in local] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert {moment.hour for moment in local} == {10}  # across the March change in Madrid too


def test_monthly_by_weekday_takes_the_same_nth_weekday_and_the_last_for_a_fifth():
    second_tuesdays = service.occurrences(datetime(2027, 1, 12, 16, 0), "monthly_weekday", 1, 4, SANTIAGO)
    assert [s.astimezone(SANTIAGO).date() for s in second_tuesdays] == [
        date(2027, 1, 12),
        date(2027, 2, 9),
        date(2027, 3, 9),
        date(2027, 4, 13),
    ]
    fifth_friday = service.occurrences(datetime(2027, 1, 29, 10, 0), "monthly_weekday", 1, 3, MADRID)
    assert [s.astimezone(MADRID).date() for s in fifth_friday] == [
        date(2027, 1, 29),
        date(2027, 2, 26),
        date(2027, 3, 26),
    ]


def test_a_wall_clock_time_inside_the_spring_forward_gap_moves_forward_by_the_gap():
    starts = service.occurrences(datetime(2027, 3, 21, 2, 30), "weekly", 1, 2, "Europe/Madrid")
    # 28 March 2027 has no 02:30 in Madrid; the start is 03:30 CEST, the same instant as 02:30 CET.
    assert [start.astimezone(MADRID).strftime("%d %H:%M") for start in starts] == ["21 02:30", "28 03:30"]


@pytest.mark.parametrize("count", [0, 53])
def test_the_number_of_occurrences_is_bounded(count):
    with pytest.raises(ValueError):
        service.occurrences(datetime(2027, 3, 16, 16, 0), "weekly", 1, count, SANTIAGO)


def test_title_pattern_takes_number_and_date():
    start = datetime(2027, 3, 16, 16, 0, tzinfo=SANTIAGO)
    assert service.title_for("Webinar #{number}: Regions ({date})", 17, 2, start) == (
        "Webinar #17: Regions (2027-03-16)"
    )
    assert service.title_for("Session {number}", None, 2, start) == "Session 2"
    assert service.title_for("{0.__class__} {number!r}", 3, 1, start) == "{0.__class__} {number!r}"


# --- schedules through the page ----------------------------------------------------------------------


SCHEDULE_FORM = {
    "title": "Webinar #{number}: Smart specialisation in practice",
    "first_date": "2027-03-16",
    "start_time": "16:00",
    "timezone": "America/Santiago",
    "frequency": "weekly",
    "interval": "2",
    "count": "6",
    "duration": "90",
    "capacity": "100",
    "join_url": "https://meet.example.org/room",
    "summary": "A fortnightly series.",
    "tags": "SDG 9 Industry and innovation",
}


@pytest.fixture
def january_2027(frozen_clock):
    frozen_clock.set(datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    return frozen_clock


def test_schedule_page_previews_then_creates_numbered_drafts_across_the_dst_change(
    client, app, january_2027, auth
):
    organizer = make_user()
    series = make_series(organizer)
    make_event(organizer, series_id=series.id, number=15, starts_in=timedelta(days=5))
    auth.login(organizer)

    page = client.get(f"/manage/webinars/schedule?series={series.id}").get_data(as_text=True)
    assert "Smart Regions (next: #16)" in page
    assert f'<option selected value="{series.id}">' in page
    assert re.search(r'<label for="first_date">', page)
    assert re.search(r'<label for="interval">', page)

    form = {**SCHEDULE_FORM, "series": str(series.id), "preview": "Preview"}
    preview = submit(client, "/manage/webinars/schedule", form)
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "6 webinars will be created" in body
    assert "Webinar #16: Smart specialisation in practice" in body
    assert "Webinar #21: Smart specialisation in practice" in body
    assert "UTC−03:00" in body
    assert "UTC−04:00" in body
    assert db.session.scalar(select(func.count(Event.id))) == 1  # a preview creates nothing

    form = {**SCHEDULE_FORM, "series": str(series.id), "create": "Create"}
    response = submit(client, "/manage/webinars/schedule", form, form_page="/manage/webinars/schedule")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/")

    created = list(db.session.scalars(select(Event).where(Event.number > 15).order_by(Event.starts_at)))
    assert [e.number for e in created] == [16, 17, 18, 19, 20, 21]
    assert [e.title for e in created] == [
        f"Webinar #{n}: Smart specialisation in practice" for n in range(16, 22)
    ]
    assert {e.status for e in created} == {EventStatus.DRAFT}
    assert {e.series_id for e in created} == {series.id}
    assert {e.owner_id for e in created} == {organizer.id}
    assert {(e.timezone, e.duration_minutes, e.capacity) for e in created} == {("America/Santiago", 90, 100)}
    assert {tag.name for e in created for tag in e.tags} == {"SDG 9 Industry and innovation"}
    assert len({e.ical_uid for e in created}) == 6
    assert len({e.slug for e in created}) == 6
    local = [e.starts_at.astimezone(SANTIAGO) for e in created]
    assert {(m.hour, m.minute) for m in local} == {(16, 0)}
    assert [e.starts_at.astimezone(UTC).hour for e in created] == [19, 19, 20, 20, 20, 20]

    # Each webinar takes its own registrations.
    from webinars.events import service as events

    for event in created[:2]:
        events.publish(event)
    registrations.register(created[0], name="Ana", email="ana@example.org", consent=True)
    registrations.register(created[1], name="Bea", email="bea@example.org", consent=True)
    registrations.register(created[1], name="Ana", email="ana@example.org", consent=True)
    per_event = dict(
        db.session.execute(select(Registration.event_id, func.count()).group_by(Registration.event_id)).all()
    )
    assert per_event == {created[0].id: 1, created[1].id: 2}


def test_schedule_without_series_numbers_titles_by_position(client, app, january_2027, auth):
    organizer = make_user()
    auth.login(organizer)
    form = {
        **SCHEDULE_FORM,
        "title": "Clinic {number}",
        "series": "0",
        "frequency": "monthly_weekday",
        "interval": "1",
        "count": "3",
        "create": "Create",
    }
    assert submit(client, "/manage/webinars/schedule", form).status_code == 302
    created = list(db.session.scalars(select(Event).order_by(Event.starts_at)))
    assert [e.title for e in created] == ["Clinic 1", "Clinic 2", "Clinic 3"]
    assert {e.number for e in created} == {None}
    assert [e.starts_at.astimezone(SANTIAGO).date() for e in created] == [
        date(2027, 3, 16),
        date(2027, 4, 20),
        date(2027, 5, 18),
    ]


def test_a_refused_schedule_creates_nothing(client, app, january_2027, auth):
    organizer = make_user()
    series = make_series(organizer)
    make_event(organizer, series_id=series.id, number=18, starts_in=timedelta(days=5))
    auth.login(organizer)

    clash = {**SCHEDULE_FORM, "series": str(series.id), "first_number": "16", "create": "Create"}
    page = submit(client, "/manage/webinars/schedule", clash)
    assert page.status_code == 200
    assert "Numbers already used in this series: #18" in page.get_data(as_text=True)

    past = {**SCHEDULE_FORM, "series": str(series.id), "first_date": "2027-01-05", "create": "Create"}
    page = submit(client, "/manage/webinars/schedule", past).get_data(as_text=True)
    assert "The first webinar must start in the future." in page

    too_many = {**SCHEDULE_FORM, "count": "53", "create": "Create"}
    assert 'id="count-error"' in submit(client, "/manage/webinars/schedule", too_many).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Event.id))) == 1


def test_an_organizer_may_only_schedule_into_series_they_own(client, app, january_2027, auth):
    owner, other = make_user(), make_user()
    series = make_series(owner)
    auth.login(other)
    page = client.get("/manage/webinars/schedule").get_data(as_text=True)
    assert "Smart Regions" not in page
    form = {**SCHEDULE_FORM, "series": str(series.id), "create": "Create"}
    response = submit(client, "/manage/webinars/schedule", form)
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_schedule_page_requires_sign_in(client, app):
    assert client.get("/manage/webinars/schedule").status_code == 302
    assert client.get("/manage/series").status_code == 302


# --- numbering --------------------------------------------------------------------------------------


def test_next_number_follows_the_highest_in_the_series(app):
    organizer = make_user()
    first, second = make_series(organizer), make_series(organizer, title="Other")
    assert queries.next_number(first.id) == 1
    make_event(organizer, series_id=first.id)
    make_event(organizer, series_id=first.id, number=16)
    assert queries.next_number(first.id) == 17
    assert queries.next_numbers([first.id, second.id]) == {first.id: 17, second.id: 1}


# --- organizer pages -------------------------------------------------------------------------------


def test_organizer_creates_and_edits_a_series_they_own(client, app, auth):
    organizer, colleague = make_user(name="Ana"), make_user(name="Bruno")
    auth.login(organizer)
    page = client.get("/manage/series/new").get_data(as_text=True)
    assert '<label for="title">' in page
    # No list of every organizer's name and address: co-owners join by invitation, on the team page.
    assert colleague.email not in page
    assert "owners" not in page

    response = submit(
        client,
        "/manage/series/new",
        {"title": "Smart Regions", "description": "Innovation *policy*.", "owners": [str(colleague.id)]},
    )
    assert response.status_code == 302
    series = db.session.scalar(select(Series))
    assert series.slug == "smart-regions"
    assert [o.id for o in series.owners] == [organizer.id]  # a posted owners field is ignored

    listing = client.get("/manage/series").get_data(as_text=True)
    assert "Smart Regions" in listing
    assert f"/manage/series/{series.id}/team" in listing

    url = f"/manage/series/{series.id}/edit"
    assert 'value="smart-regions"' in client.get(url).get_data(as_text=True)
    response = submit(
        client,
        url,
        {"title": "Smart Regions 2027", "slug": "smart-regions-2027", "owners": [str(organizer.id)]},
    )
    assert response.status_code == 302
    db.session.refresh(series)
    assert (series.title, series.slug) == ("Smart Regions 2027", "smart-regions-2027")
    assert [o.id for o in series.owners] == [organizer.id]

    # A blank address keeps the current one: subscribed calendars keep working.
    submit(client, url, {"title": "Renamed", "slug": "", "owners": [str(organizer.id)]})
    db.session.refresh(series)
    assert (series.title, series.slug) == ("Renamed", "smart-regions-2027")


def test_series_slug_must_be_free_and_well_formed(client, app, auth):
    admin = make_user(admin=True)
    make_series(admin, title="Smart Regions")
    auth.login(admin)
    page = submit(
        client, "/manage/series/new", {"title": "Again", "slug": "smart-regions", "owners": [str(admin.id)]}
    )
    assert "Another series already uses this address." in page.get_data(as_text=True)
    page = submit(
        client, "/manage/series/new", {"title": "Again", "slug": "Bad Slug!", "owners": [str(admin.id)]}
    )
    assert "lower-case letters, digits and hyphens" in page.get_data(as_text=True)
    # A title that gives a taken slug gets a free one.
    assert (
        submit(
            client, "/manage/series/new", {"title": "Smart regions", "owners": [str(admin.id)]}
        ).status_code
        == 302
    )
    assert db.session.scalar(select(Series.slug).where(Series.title == "Smart regions")) == "smart-regions-2"


def test_organizers_see_only_their_series(client, app, auth):
    owner, other = make_user(), make_user()
    make_series(owner, title="Owner's series")
    make_series(other, title="Someone else's series")
    auth.login(owner)
    listing = client.get("/manage/series").get_data(as_text=True)
    assert "Owner&#39;s series" in listing
    assert "Someone else" not in listing


def test_an_organizer_cannot_edit_a_series_they_do_not_own(client, app, auth):
    owner, other = make_user(), make_user()
    theirs = make_series(owner, title="Owner's series")
    auth.login(other)
    assert client.get(f"/manage/series/{theirs.id}/edit").status_code == 404
    response = submit(
        client,
        f"/manage/series/{theirs.id}/edit",
        {"title": "Taken over", "owners": [str(other.id)]},
        form_page="/manage/series/new",
    )
    assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.title == "Owner's series"


def test_admins_see_and_edit_every_series(client, app, auth):
    owner, other, admin = make_user(), make_user(), make_user(admin=True)
    mine = make_series(owner, title="Owner's series")
    make_series(other, title="Someone else's series")
    auth.login(admin)
    listing = client.get("/manage/series").get_data(as_text=True)
    assert "Owner&#39;s series" in listing
    assert "Someone else&#39;s series" in listing
    assert client.get(f"/manage/series/{mine.id}/edit").status_code == 200


def test_manage_series_page_has_a_helpful_empty_state(client, app, auth):
    auth.login(make_user())
    page = client.get("/manage/series").get_data(as_text=True)
    assert "No series yet." in page
    assert 'href="/manage/series/new"' in page
    assert 'href="/manage/webinars/schedule"' in page


# --- public pages -------------------------------------------------------------------------------------


def test_series_page_lists_upcoming_and_past_webinars_with_subscribe_links(client, app, frozen_clock):
    organizer = make_user()
    series = make_series(organizer, description_md="Regional innovation, **every month**.")
    past = make_event(organizer, series_id=series.id, title="Past one", starts_in=timedelta(days=1))
    upcoming = make_event(organizer, series_id=series.id, title="Coming one", starts_in=timedelta(days=40))
    make_event(organizer, series_id=series.id, title="Draft one", starts_in=timedelta(days=41), publish=False)
    make_event(organizer, title="Outside the series", starts_in=timedelta(days=42))
    frozen_clock.advance(days=10)

    page = client.get(f"/series/{series.slug}").get_data(as_text=True)
    assert '<h1 lang="en">Smart Regions</h1>' in page
    assert "<strong>every month</strong>" in page
    # The page's body: the head's metadata names every webinar of the series.
    upcoming_part, past_part = page.split("<main", 1)[1].split('id="past-heading"')
    assert "Coming one" in upcoming_part
    assert "Past one" not in upcoming_part
    assert "Past one" in past_part
    assert "Coming one" not in past_part
    assert "Draft one" not in page
    assert "Outside the series" not in page
    assert f"Webinar #{upcoming.number}" in upcoming_part
    assert f"Webinar #{past.number}" in past_part
    assert 'href="webcal://webinars.test/series/smart-regions/calendar.ics"' in page
    assert 'href="http://webinars.test/series/smart-regions/calendar.ics"' in page
    assert (
        'href="https://calendar.google.com/calendar/r?cid='
        'webcal%3A%2F%2Fwebinars.test%2Fseries%2Fsmart-regions%2Fcalendar.ics"' in page
    )
    headings = re.findall(r"<h([1-6])", page)
    assert headings[0] == "1", f"the page starts with <h{headings[0]}>"
    skipped = [(a, b) for a, b in zip(headings, headings[1:], strict=False) if int(b) - int(a) > 1]
    assert skipped == [], f"heading levels skipped: {headings}"

    assert client.get("/series/nope").status_code == 404


def test_series_list_counts_webinars_and_offers_the_site_feed(client, app):
    organizer = make_user()
    series = make_series(organizer)
    make_series(organizer, title="Empty series")
    make_event(organizer, series_id=series.id)
    make_event(organizer, series_id=series.id, publish=False)

    page = client.get("/series").get_data(as_text=True)
    assert f'href="/series/{series.slug}"' in page
    assert re.search(r"1 upcoming webinar\s*·\s*0 past webinars", page)
    assert re.search(r"0 upcoming webinars\s*·\s*0 past webinars", page)  # the empty series
    assert "Empty series" in page
    assert 'href="webcal://webinars.test/calendar.ics"' in page
    assert 'href="/feeds/webinars.atom"' in page


def test_series_list_empty_state(client, app):
    assert "No series yet." in client.get("/series").get_data(as_text=True)


def test_webinar_page_names_its_series_and_number(client, app):
    organizer = make_user()
    series = make_series(organizer)
    event = make_event(organizer, series_id=series.id, number=16, tags=["SDG 9 Industry"])
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert 'Webinar #16 · <a href="/series/smart-regions" lang="en">Smart Regions</a>' in page
    assert 'href="/past?tag=sdg-9-industry"' in page
    nav = client.get("/").get_data(as_text=True)
    assert '<a href="/series">Series</a>' in nav
    assert 'type="application/atom+xml"' in nav


# --- schedule rules in the service -------------------------------------------------------------------


def schedule_data(**changes) -> service.ScheduleData:
    values = {
        "title": "Webinar #{number}",
        "first_local": datetime(2027, 3, 16, 16, 0),
        "timezone": "America/Santiago",
        "frequency": service.Frequency.WEEKLY,
        "interval": 2,
        "count": 3,
    }
    values.update(changes)
    return service.ScheduleData(**values)


def test_the_service_refuses_a_series_the_organizer_does_not_own(app, january_2027):
    owner, other = make_user(), make_user()
    series = make_series(owner)
    with app.test_request_context(), pytest.raises(RuleError) as refused:
        service.create_schedule(other, schedule_data(series_id=series.id))
    assert "series" in refused.value.errors
    assert db.session.scalar(select(func.count(Event.id))) == 0
    admin = make_user(admin=True)
    assert len(service.create_schedule(admin, schedule_data(series_id=series.id))) == 3


def test_a_number_taken_meanwhile_stops_the_schedule_cleanly(app, january_2027, monkeypatch):
    owner = make_user()
    series = make_series(owner)
    make_event(owner, series_id=series.id, number=17, starts_in=timedelta(days=5))
    monkeypatch.setattr(service, "numbers_taken", lambda series_id, numbers: [])  # the check saw none

    with app.test_request_context(), pytest.raises(RuleError) as stopped:
        service.create_schedule(owner, schedule_data(series_id=series.id, first_number=16))
    assert "1 of 3 drafts were created" in stopped.value.errors["first_number"][0]
    numbers = db.session.scalars(
        select(Event.number).where(Event.series_id == series.id).order_by(Event.number)
    )
    assert list(numbers) == [16, 17]
