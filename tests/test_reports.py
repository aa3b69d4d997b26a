"""Reports per webinar and per series: the numbers against what the test did, each chart a well-formed
SVG beside a table of the same numbers, the CSV download, the three languages, and who may see them.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

from flask_babel import refresh

from tests.factories import make_event, make_series, make_user
from webinars.extensions import db
from webinars.models import Event, Registration
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.registrations import service as registrations

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def charts_of(page: str) -> list[ET.Element]:
    """Every chart of the page, parsed by a real XML parser (so each must be well-formed)."""
    return [ET.fromstring(svg) for svg in SVG.findall(page)]


def sign_up(event: Event, email: str, country: int, answer: str) -> Registration:
    return registrations.register(
        event, name=email.split("@")[0], email=email, consent=True, answers={country: answer}
    ).registration


def held_webinar(owner, frozen_clock, *, number: int | None = None, series_id: int | None = None) -> Event:
    """A webinar with a country question: announced, then four sign-ups over three days, 1, 2 and 1 a day (two
    Chileans), one of whom cancels; capacity 2, so one waits; one of the two seated attended."""
    event = make_event(owner, capacity=2, starts_in=timedelta(days=10), number=number, series_id=series_id)
    country = questions.add_question(event, QuestionData(kind="country", label="Country")).id
    people = []
    for day, (email, answer) in enumerate(
        [
            ("ana@example.cl", "CL"),
            ("ane@example.es", "ES"),
            ("joao@example.br", "BR"),
            ("leo@example.cl", "CL"),
        ]
    ):
        frozen_clock.advance(days=1 if day in (1, 3) else 0)
        people.append(sign_up(event, email, country, answer))
    registrations.cancel(people[3])  # was waitlisted behind João: nothing moves
    people[0].attended = True
    people[1].attended = False
    db.session.commit()
    return event


def test_webinar_report_shows_the_numbers_in_charts_and_tables(auth, client, app, frozen_clock):
    owner = make_user()
    event = held_webinar(owner, frozen_clock)
    auth.login(owner)
    page = client.get(f"/manage/webinars/{event.id}/report").get_data(as_text=True)

    charts = charts_of(page)
    titles = [chart.find("{http://www.w3.org/2000/svg}title").text for chart in charts]
    assert titles == [
        "Registrations over time, with the announcement and reminder dates",
        "Registrations by status",
        "Country",
    ]
    assert all(chart.get("role") == "img" for chart in charts)
    country_bars = [
        bar.find("{http://www.w3.org/2000/svg}title").text
        for bar in charts[2].iter("{http://www.w3.org/2000/svg}rect")
    ]
    # cancelled people are not counted among the answers
    assert country_bars == ["Brazil: 1", "Chile: 1", "Spain: 1"]
    assert "Announced" in page
    assert "Reminder" in page
    assert re.search(r"<th scope=\"row\">Confirmed</th><td>2</td>", page)
    assert re.search(r"<th scope=\"row\">Waitlisted</th><td>1</td>", page)
    assert re.search(r"<th scope=\"row\">Cancelled</th><td>1</td>", page)
    assert re.search(r"<th scope=\"row\">Attendance rate</th><td>50%</td>", page)


def test_webinar_report_csv_holds_the_same_numbers(auth, client, app, frozen_clock):
    owner = make_user()
    event = held_webinar(owner, frozen_clock)
    auth.login(owner)
    response = client.get(f"/manage/webinars/{event.id}/report.csv")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{event.slug}-report.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Section", "Item", "Value"]
    per_day = [int(count) for section, _, count in rows if section == "Registrations per day"]
    assert per_day == [1, 2, 1]
    by_status = {item: value for section, item, value in rows if section == "Registrations by status"}
    # The organizer reads statuses by their labels, in the report as on every other page.
    assert by_status == {
        "Confirmed": "2",
        "Waitlisted": "1",
        "Cancelled": "1",
        "Awaiting approval": "0",
        "Declined": "0",
    }
    assert ["Attendance", "Attendance rate", "50%"] in rows
    assert ["Country", "Chile", "1"] in rows


def test_series_report_follows_the_numbers(auth, client, app, frozen_clock):
    owner = make_user()
    series = make_series(owner)
    later = held_webinar(owner, frozen_clock, number=16, series_id=series.id)
    earlier = make_event(owner, number=15, series_id=series.id, starts_in=timedelta(days=3))
    registrations.register(earlier, name="Eva", email="eva@example.org", consent=True)
    auth.login(owner)
    page = client.get(f"/manage/series/{series.id}/report").get_data(as_text=True)
    (trend, country) = charts_of(page)
    labels = [text.text for text in trend.iter("{http://www.w3.org/2000/svg}text")]
    assert labels == ["#15", "1 / 0", "#16", "3 / 1"]
    assert f'href="/manage/webinars/{later.id}/report"' in page

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/manage/series/{series.id}/report.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert rows[0] == ["Number", "Webinar", "Registered", "Confirmed", "Attended", "Attendance rate"]
    assert [row[0] for row in rows[1:3]] == ["#15", "#16"]
    assert rows[2][2:] == ["3", "2", "1", "50%"]
    assert rows[1][4:] == ["", ""]  # no attendance recorded for #15


def test_reports_speak_the_organizers_language(auth, client, app, frozen_clock):
    owner = make_user()
    event = held_webinar(owner, frozen_clock)
    auth.login(owner)
    # The test shares one app context with its requests: forget the language chosen while setting up.
    refresh()
    spanish = client.get(f"/manage/webinars/{event.id}/report?lang=es").get_data(as_text=True)
    assert "Inscripciones a lo largo del tiempo" in spanish
    assert "Chile" in spanish
    assert "España" in spanish
    refresh()
    portuguese = client.get(f"/manage/webinars/{event.id}/report?lang=pt").get_data(as_text=True)
    assert "Inscrições ao longo do tempo" in portuguese
    assert "Espanha" in portuguese


def test_reports_are_only_for_those_who_manage(auth, client, app, frozen_clock):
    owner = make_user()
    event = held_webinar(owner, frozen_clock)
    series = make_series(owner)
    auth.login(make_user())
    for url in (
        f"/manage/webinars/{event.id}/report",
        f"/manage/webinars/{event.id}/report.csv",
        f"/manage/series/{series.id}/report",
        f"/manage/series/{series.id}/report.csv",
        "/manage/series/99999999999999999999/report",
    ):
        assert client.get(url).status_code == 404, url
