"""A webinar's life on the pages: upcoming until its start, live until its end, then past; topics
one per line and sorted naturally; schedules that carry speakers and publish together; emails that
name the series, the number and the speakers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import edited, make_event, make_registration, make_series, make_user
from tests.helpers import assert_same_count, statements_of_get, submit
from webinars import topics
from webinars.events import service as events
from webinars.events.service import RuleError
from webinars.extensions import db
from webinars.mail import worker
from webinars.mail.notifications import in_language
from webinars.messages import service as followup
from webinars.models import Event, EventPhase, EventStatus, OutboxMessage, Tag


def text(response) -> str:
    return response.get_data(as_text=True)


# --- upcoming -> live -> past -------------------------------------------------------------------------


def test_pages_follow_the_webinar_from_upcoming_to_live_to_past(client, app, frozen_clock):
    series = make_series(title="LA Webinar")
    event = make_event(title="Regional innovation policy", series_id=series.id)  # 90 minutes, a week ahead
    person = make_registration(event, "ane@example.org")
    manage_url = f"/r/{person.token}"

    def listed(page: str) -> bool:
        return "Regional innovation policy" in text(client.get(page))

    assert event.phase == EventPhase.UPCOMING
    assert listed("/")
    assert not listed("/past")
    assert "Registration open" in text(client.get(f"/webinars/{event.slug}"))
    assert "Join the webinar now" not in text(client.get(manage_url))

    frozen_clock.set(event.starts_at)
    assert event.phase == EventPhase.LIVE
    home = text(client.get("/"))
    assert "Regional innovation policy" in home
    assert "Live now" in home
    assert not listed("/past")
    assert "Live now" in text(client.get(f"/series/{series.slug}"))
    public = text(client.get(f"/webinars/{event.slug}"))
    assert "Live now" in public
    assert "secret-room-16" not in public
    assert 'name="email"' not in public
    own_page = text(client.get(manage_url))
    assert "Live now" in own_page
    assert re.search(
        r'<a class="button" href="https://meet.example.org/secret-room-16"[^>]*>Join the webinar now',
        own_page,
    )

    frozen_clock.set(event.ends_at - timedelta(seconds=1))
    assert not listed("/past")
    frozen_clock.set(event.ends_at)  # the archive shows it the moment it ends
    assert event.phase == EventPhase.PAST
    assert listed("/past")
    assert not listed("/")
    assert "Past webinar" in text(client.get(f"/webinars/{event.slug}"))
    ended = text(client.get(manage_url))
    assert "This webinar has ended" in ended
    assert "secret-room-16" not in ended


def test_a_recording_can_be_added_only_once_the_webinar_has_started(client, app, frozen_clock, auth):
    owner = make_user()
    event = make_event(owner)
    with pytest.raises(RuleError):
        followup.set_recording(event, url="https://video.example.org/early", summary="")
    auth.login(owner)
    url = f"/manage/webinars/{event.id}/recording"
    refused = submit(client, url, {"recording_url": "https://video.example.org/early", "notify": ""})
    assert refused.status_code == 200
    assert re.search(
        r'id="recording_url-error">A recording can be added once the webinar has started', text(refused)
    )
    db.session.expire_all()
    assert event.recording_url == ""
    assert "Watch the recording" not in text(client.get("/"))

    frozen_clock.set(event.starts_at + timedelta(minutes=1))
    saved = submit(client, url, {"recording_url": "https://video.example.org/16", "notify": ""})
    assert saved.status_code == 302
    db.session.expire_all()
    assert event.recording_url == "https://video.example.org/16"


def test_an_existing_webinar_gets_its_end_from_start_and_duration(app):
    event = make_event()
    assert event.ends_at == event.starts_at + timedelta(minutes=90)
    events.update_event(event, edited(event, duration_minutes=30))
    db.session.expire_all()
    assert db.session.get(Event, event.id).ends_at == event.starts_at + timedelta(minutes=30)


# --- topics ------------------------------------------------------------------------------------------


def test_topics_are_one_per_line_keep_their_commas_and_sort_naturally(client, app, auth):
    owner = make_user()
    auth.login(owner)
    form = {
        "title": "Innovation and cities",
        "start_date": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
        "start_time": "16:00",
        "timezone": "America/Santiago",
        "duration": "60",
        "tags": "SDG 11 Sustainable cities and communities\nSDG 9 Industry, innovation and infrastructure\n\n"
        "sdg 9 industry, innovation and infrastructure",
        "reminders": "1440",
    }
    assert submit(client, "/manage/webinars/new", form).status_code == 302
    event = db.session.scalars(select(Event)).one()
    assert [tag.name for tag in event.topics] == [
        "SDG 9 Industry, innovation and infrastructure",
        "SDG 11 Sustainable cities and communities",
    ]
    edit = text(client.get(f"/manage/webinars/{event.id}/edit"))
    assert "SDG 9 Industry, innovation and infrastructure\nSDG 11 Sustainable cities" in edit
    events.publish(event)
    page = text(client.get(f"/webinars/{event.slug}"))
    assert page.index("SDG 9 Industry") < page.index("SDG 11 Sustainable")


def test_control_characters_and_overlong_topics_are_refused_next_to_the_field(client, app, auth):
    auth.login(make_user())
    form = {
        "title": "Innovation",
        "start_date": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
        "start_time": "16:00",
        "timezone": "UTC",
        "duration": "60",
        "tags": "A fine topic\n" + "x" * 81,
    }
    response = submit(client, "/manage/webinars/new", form)
    assert response.status_code == 200
    assert re.search(r'id="tags-error">Each line may have at most 80 characters', text(response))
    form["tags"], form["title"] = "fine", "Bell\x07"
    assert re.search(
        r'id="title-error">Remove the control characters', text(submit(client, "/manage/webinars/new", form))
    )
    assert db.session.scalars(select(Event)).all() == []


def test_administrator_keeps_suggested_topics_offered_in_three_languages(client, app, auth):
    admin = make_user(admin=True)
    auth.login(admin)
    assert submit(client, "/manage/topics", {"load_sdgs": "1"}).status_code == 302
    suggested = topics.suggested()
    assert len(suggested) == 17
    assert [tag.name for tag in suggested[8:11]] == [
        "SDG 9 Industry, innovation and infrastructure",
        "SDG 10 Reduced inequalities",
        "SDG 11 Sustainable cities and communities",
    ]
    refused = submit(client, "/manage/topics", {"topics": "A | B | C | D"})
    assert refused.status_code == 200
    assert "optionally followed by" in text(refused)
    assert len(topics.suggested()) == 17

    new_form = text(client.get("/manage/webinars/new"))
    assert new_form.index("SDG 9 Industry") < new_form.index("SDG 11 Sustainable")
    data = {
        "title": "Innovation and cities",
        "start_date": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
        "start_time": "16:00",
        "timezone": "UTC",
        "duration": "60",
        "suggested_topics": ["SDG 9 Industry, innovation and infrastructure", "Not on the list"],
        "tags": "Smart specialisation",
    }
    assert submit(client, "/manage/webinars/new", data).status_code == 302
    event = db.session.scalars(select(Event)).one()
    assert [tag.name for tag in event.topics] == [
        "SDG 9 Industry, innovation and infrastructure",
        "Smart specialisation",
    ]
    events.publish(event)
    sdg9 = event.topics[0]
    for language, name in (
        ("es", "ODS 9 Industria, innovación e infraestructura"),
        ("pt", "ODS 9 Indústria, inovação e infraestrutura"),
        ("en", "SDG 9 Industry, innovation and infrastructure"),
    ):
        with in_language(language):
            assert topics.label(sdg9) == name
    assert db.session.scalar(select(Tag).where(Tag.name == "Not on the list")) is None


def test_only_administrators_keep_the_suggested_topics(client, app, auth):
    auth.login(make_user())
    assert client.get("/manage/topics").status_code == 404
    assert client.post("/manage/topics", data={"load_sdgs": "1"}).status_code in (400, 404)
    assert topics.suggested() == []


# --- schedules ---------------------------------------------------------------------------------------


def _schedule_form(series_id: int, **extra) -> dict:
    first = (datetime.now(UTC) + timedelta(days=14)).date()
    return {
        "title": "LA Webinar #{number}",
        "series": str(series_id),
        "first_date": first.isoformat(),
        "start_time": "16:00",
        "timezone": "America/Santiago",
        "frequency": "monthly_weekday",
        "interval": "1",
        "count": "4",
        "duration": "60",
        "summary": "Monthly webinar.",
        "description": "Speakers compare **regional** policies.",
        "speakers": "Ane Etxeberria, Orkestra, Basque Country\nCamila Rojas, Universidad de Chile",
        "tags": "SDG 9 Industry, innovation and infrastructure",
        "create": "1",
        **extra,
    }


def test_a_schedule_carries_speakers_and_description_and_its_drafts_are_published_together(client, app, auth):
    owner = make_user()
    series = make_series(owner, title="LA Webinar")
    auth.login(owner)
    assert submit(client, "/manage/webinars/schedule", _schedule_form(series.id)).status_code == 302
    drafts = list(db.session.scalars(select(Event).order_by(Event.starts_at)))
    assert len(drafts) == 4
    assert all(d.status == EventStatus.DRAFT for d in drafts)
    for draft in drafts:
        assert [(s.name, s.affiliation) for s in draft.speakers] == [
            ("Ane Etxeberria", "Orkestra, Basque Country"),
            ("Camila Rojas", "Universidad de Chile"),
        ]
        assert draft.description_md == "Speakers compare **regional** policies."
        assert [t.name for t in draft.tags] == ["SDG 9 Industry, innovation and infrastructure"]

    dashboard = text(client.get("/manage/"))
    assert "Publish all 4 drafts on this page" in dashboard
    ticked = {"event_ids": [str(drafts[0].id), str(drafts[1].id)]}
    response = submit(client, "/manage/webinars/publish", ticked, form_page="/manage/")
    assert response.status_code == 302
    db.session.expire_all()
    assert [d.status for d in drafts] == ["published", "published", "draft", "draft"]

    everything = {"all_drafts": "1", "page_draft_ids": [str(d.id) for d in drafts]}
    assert submit(client, "/manage/webinars/publish", everything, form_page="/manage/").status_code == 302
    db.session.expire_all()
    assert all(d.status == EventStatus.PUBLISHED for d in drafts)


def test_a_schedule_can_be_published_in_one_step_and_nobody_publishes_what_is_not_theirs(client, app, auth):
    owner, stranger = make_user(), make_user()
    series = make_series(owner)
    auth.login(owner)
    response = submit(client, "/manage/webinars/schedule", _schedule_form(series.id, publish="y"))
    assert response.status_code == 302
    assert {e.status for e in db.session.scalars(select(Event))} == {EventStatus.PUBLISHED}

    other = make_event(owner, publish=False)
    assert events.publish_many(stranger, [other.id]) == []
    db.session.expire_all()
    assert other.status == EventStatus.DRAFT


# --- emails name the series, the number and the speakers ------------------------------------------------


def test_emails_name_the_series_number_and_speakers(app):
    owner = make_user()
    series = make_series(owner, title="LA Webinar")
    event = make_event(owner, title="Smart Specialisation Strategies", series_id=series.id, number=16)
    make_registration(event, "ane@example.org")
    worker.deliver_due()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.subject == "You're registered: LA Webinar #16: Smart Specialisation Strategies"
    assert "Series: LA Webinar #16" in message.body_text
    assert "Speakers: Ane Etxeberria (Orkestra, Basque Country); Camila Rojas (Universidad de Chile)" in (
        message.body_text
    )
    assert "LA Webinar #16" in message.body_html
    assert "Camila Rojas" in message.body_html


def test_a_title_that_already_says_its_number_is_not_repeated(app):
    owner = make_user()
    series = make_series(owner, title="LA Webinar")
    event = make_event(owner, title="Webinar #16: Smart Specialisation", series_id=series.id, number=16)
    assert event.full_title == "Webinar #16: Smart Specialisation"


def test_the_dashboard_names_series_and_numbers_without_a_query_per_row(client, app, auth):
    owner = make_user()
    auth.login(owner)
    counts = []
    for total in (2, 6):
        while db.session.scalar(select(func.count(Event.id))) < total:
            series = make_series(
                owner, title=f"Series {total}-{db.session.scalar(select(func.count(Event.id)))}"
            )
            make_event(owner, series_id=series.id, publish=False)
        counts.append(statements_of_get(client, "/manage/"))
    assert_same_count(*counts)
    assert "Series 6-5 #1" in text(client.get("/manage/"))
