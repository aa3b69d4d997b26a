"""No N+1: the attendee list, the webinar page and the feeds run as many SQL statements for 30
registrations or webinars as for 3 (on SQLite and on PostgreSQL, like every test using ``app``)."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import make_event, make_user
from tests.helpers import assert_same_count, fresh_get, statements_of_get
from webinars.calendar import feeds
from webinars.extensions import db
from webinars.models import Event, User
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.registrations import service as registrations
from webinars.series import service as series_service

FEW, MANY = 3, 30


def queries_for(client, url: str) -> list[str]:
    """The SQL statements of one GET of ``url`` by a warm process."""
    return statements_of_get(client, url, warm_up=True)


def feed_queries(client, url: str) -> tuple[list[str], list[str]]:
    """The SQL statements of a feed built from the database, then of the same feed again (a feed
    may be cached between requests)."""
    statements_of_get(client, url)
    feeds.clear_cache()
    return statements_of_get(client, url), statements_of_get(client, url)


def register_people(event_id: int, first: int, last: int) -> None:
    event = db.session.get(Event, event_id)
    for n in range(first, last):
        registrations.register(event, name=f"Person {n}", email=f"person{n}@example.org", consent=True)


def owner_without_password(n: int) -> User:
    """An organizer who only owns a webinar (no login, so no slow password hashing)."""
    user = User(email=f"owner{n}@example.org", name=f"Owner {n}", password_hash="!", is_admin=False)
    db.session.add(user)
    db.session.commit()
    return user


def test_attendee_list_runs_the_same_queries_for_3_and_30_registrations(client, app, auth):
    organizer = make_user()
    event = make_event(organizer, capacity=10)  # so the list mixes confirmed and waitlisted people
    event_id, url = event.id, f"/manage/webinars/{event.id}/registrations"
    auth.login(organizer)
    register_people(event_id, 0, FEW)
    few = queries_for(client, url)
    register_people(event_id, FEW, MANY)
    many = queries_for(client, url)
    assert_same_count(few, many, what=url)
    assert f"person{MANY - 1}@example.org" in fresh_get(client, url).get_data(as_text=True)


def test_webinar_page_runs_the_same_queries_for_3_and_30_registrations(client, app):
    event = make_event(capacity=10, tags=["SDG 9 Industry, innovation and infrastructure"])
    event_id, url = event.id, f"/webinars/{event.slug}"
    register_people(event_id, 0, FEW)
    few = queries_for(client, url)
    register_people(event_id, FEW, MANY)
    many = queries_for(client, url)
    assert_same_count(few, many, what=url)


def add_webinars(first: int, last: int, series_id: int | None = None) -> None:
    """Webinars with an owner each, speakers, a tag each, optionally in a series."""
    for n in range(first, last):
        make_event(
            owner_without_password(n),
            title=f"Webinar #{n + 1}: Regional innovation",
            starts_in=timedelta(days=2 + n),
            series_id=series_id,
            tags=[f"SDG {n % 17 + 1}"],
        )


def test_site_feed_runs_the_same_queries_for_3_and_30_webinars(client, app):
    url = "/calendar.ics"
    add_webinars(0, FEW)
    few = feed_queries(client, url)
    add_webinars(FEW, MANY)
    many = feed_queries(client, url)
    assert_same_count(few[0], many[0], what=f"{url} (built)")
    assert_same_count(few[1], many[1], what=f"{url} (again)")
    assert fresh_get(client, url).data.count(b"BEGIN:VEVENT") == MANY


def test_series_feed_runs_the_same_queries_for_3_and_30_webinars(client, app):
    organizer = make_user()
    series = series_service.create_series(
        organizer, series_service.SeriesData(title="Smart Regions", owner_ids=[organizer.id])
    )
    series_id, url = series.id, f"/series/{series.slug}/calendar.ics"
    add_webinars(0, FEW, series_id)
    few = feed_queries(client, url)
    add_webinars(FEW, MANY, series_id)
    many = feed_queries(client, url)
    assert_same_count(few[0], many[0], what=f"{url} (built)")
    assert_same_count(few[1], many[1], what=f"{url} (again)")
    assert fresh_get(client, url).data.count(b"BEGIN:VEVENT") == MANY


def ask_country(event_id: int) -> int:
    event = db.session.get(Event, event_id)
    return questions.add_question(event, QuestionData(kind="country", label="Country")).id


def register_answering(event_id: int, question_id: int, first: int, last: int) -> None:
    event = db.session.get(Event, event_id)
    for n in range(first, last):
        registrations.register(
            event,
            name=f"Person {n}",
            email=f"person{n}@example.org",
            organisation="Universidad de Chile",
            consent=True,
            answers={question_id: "CL"},
        )


def test_filtered_sorted_attendee_list_runs_the_same_queries_for_3_and_30(client, app, auth):
    organizer = make_user()
    event = make_event(organizer, capacity=10)
    event_id = event.id
    question_id = ask_country(event_id)
    url = f"/manage/webinars/{event_id}/registrations?q=chile&answer={question_id}:CL&sort=name&dir=desc"
    auth.login(organizer)
    register_answering(event_id, question_id, 0, FEW)
    few = queries_for(client, url)
    register_answering(event_id, question_id, FEW, MANY)
    many = queries_for(client, url)
    assert_same_count(few, many, what=url)
    assert f"{MANY} people match." in fresh_get(client, url).get_data(as_text=True)


def test_webinar_report_runs_the_same_queries_for_3_and_30_registrations(client, app, auth):
    organizer = make_user()
    event = make_event(organizer, capacity=10)
    event_id = event.id
    question_id = ask_country(event_id)
    url = f"/manage/webinars/{event_id}/report"
    auth.login(organizer)
    register_answering(event_id, question_id, 0, FEW)
    few = queries_for(client, url)
    register_answering(event_id, question_id, FEW, MANY)
    many = queries_for(client, url)
    assert_same_count(few, many, what=url)
    assert "Chile" in fresh_get(client, url).get_data(as_text=True)
