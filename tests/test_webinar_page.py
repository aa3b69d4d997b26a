"""The webinar page leads with what a visitor needs: cover, title, when, speakers, a way to register."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_event
from webinars.extensions import db


def _body(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return page.split("<main", 1)[1]


def test_the_register_button_comes_before_the_description_and_leads_to_the_form(client, app):
    event = make_event(capacity=12)
    body = _body(client, f"/webinars/{event.slug}")
    assert body.index('href="#register"') < body.index("About this webinar")
    assert 'id="register"' in body
    assert "12 seats left" in body[: body.index('href="#register"')]


def test_times_name_the_zone_as_people_do(client, app):
    event = make_event(timezone="America/Sao_Paulo")
    body = _body(client, f"/webinars/{event.slug}")
    assert "(Sao Paulo, UTC−03:00)" in body
    assert "(UTC)" in body
    assert "America/Sao_Paulo" not in body.replace('data-zone="America/Sao_Paulo"', "")


def test_zone_names_follow_the_language(client, app):
    # One language per test: the test's application context keeps the locale of its first request.
    event = make_event(timezone="America/Sao_Paulo")
    assert "(São Paulo, UTC−03:00)" in _body(client, f"/webinars/{event.slug}?lang=es")


def test_a_past_webinar_shows_its_recording_instead_of_a_closed_form(client, app, frozen_clock):
    event = make_event(starts_in=timedelta(days=1))
    event.recording_url = "https://video.example.org/webinar-16"
    db.session.commit()
    frozen_clock.advance(days=3)
    body = _body(client, f"/webinars/{event.slug}")
    assert "Watch the recording" in body
    assert 'id="register"' not in body
    assert "This webinar has ended" not in body
    assert 'href="#register"' not in body


def test_a_past_webinar_without_recording_says_it_will_come(client, app, frozen_clock):
    event = make_event(starts_in=timedelta(days=1))
    frozen_clock.advance(days=3)
    body = _body(client, f"/webinars/{event.slug}")
    assert "The recording will appear on this page" in body
    assert 'href="#register"' not in body
