"""The archive (/past): recordings, search over titles, descriptions and speakers, series and topic
filters, pagination that keeps the filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.factories import make_event, make_user
from webinars.events import service as events
from webinars.extensions import db
from webinars.series import service as series_service


@pytest.fixture
def archive(app, frozen_clock):
    """Four past webinars (two in a series, with SDG topics), one cancelled, one draft, one upcoming."""
    organizer = make_user()
    series = series_service.create_series(
        organizer, series_service.SeriesData(title="Smart Regions", owner_ids=[organizer.id])
    )
    made = {
        "basque": make_event(
            organizer,
            title="Smart specialisation in the Basque Country",
            series_id=series.id,
            tags=["SDG 9 Industry, innovation and infrastructure"],
            starts_in=timedelta(days=1),
        ),
        "chile": make_event(
            organizer,
            title="Green hydrogen in Magallanes",
            series_id=series.id,
            tags=["SDG 13 Climate action", "SDG 7 Affordable and clean energy"],
            starts_in=timedelta(days=2),
        ),
        "water": make_event(
            organizer,
            title="Water governance",
            tags=["SDG 6 Clean water and sanitation"],
            starts_in=timedelta(days=3),
        ),
        "percent": make_event(organizer, title="The 100% renewable region", starts_in=timedelta(days=4)),
        "cancelled": make_event(organizer, title="Cancelled climate talk", starts_in=timedelta(days=5)),
        "draft": make_event(
            organizer, title="Draft climate talk", starts_in=timedelta(days=5), publish=False
        ),
    }
    events.cancel_event(made["cancelled"])
    texts = {
        "basque": ("Regional innovation policy in the Basque Country.", ""),
        "chile": ("Hydrogen for export from the far south.", "Wind, ports and skills."),
        "water": ("", "Basins shared by **Andean** municipalities."),
        "percent": ("", ""),
    }
    for key, (summary, description) in texts.items():
        made[key].summary, made[key].description_md = summary, description
    frozen_clock.advance(days=10)
    made["upcoming"] = make_event(organizer, title="Upcoming climate talk", starts_in=timedelta(days=3))
    made["basque"].recording_url = "https://video.example.org/basque"
    made["basque"].recording_summary = "Key points: **RIS3** works.<script>alert(1)</script>"
    db.session.commit()
    made["series"] = series
    return made


def titles(client, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    titles = r'<h2 lang="[a-z-]+"><a href="/webinars/[^"]+">([^<]+)</a></h2>'
    return re.findall(titles, page.get_data(as_text=True))


def test_archive_lists_past_webinars_with_recordings_newest_first(client, archive):
    page = client.get("/past").get_data(as_text=True)
    assert titles(client, "/past") == [
        "The 100% renewable region",
        "Water governance",
        "Green hydrogen in Magallanes",
        "Smart specialisation in the Basque Country",
    ]
    assert 'href="https://video.example.org/basque"' in page
    assert "<strong>RIS3</strong>" in page
    assert "<script>alert" not in page
    assert 'Webinar #1 · <a href="/series/smart-regions" lang="en">Smart Regions</a>' in page
    assert 'href="/past?tag=sdg-13-climate-action"' in page
    assert '<label for="q">' in page
    assert '<label for="series">' in page
    assert '<label for="tag">' in page
    assert 'name="csrf_token"' not in page.split('role="search"')[1].split("</form>")[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SPECIALISATION", ["Smart specialisation in the Basque Country"]),  # title, any case
        ("far south", ["Green hydrogen in Magallanes"]),  # summary
        ("andean", ["Water governance"]),  # description
        ("ROJAS", None),  # speaker name: every webinar has Camila Rojas
        ("Orkestra", None),  # speaker affiliation
        ("hydrogen magallanes", ["Green hydrogen in Magallanes"]),  # every word must match
        ("hydrogen water", []),
        ("100%", ["The 100% renewable region"]),  # % is a character, not a wildcard
        ("%", ["The 100% renewable region"]),
        ("_", []),
        ("RIS3", ["Smart specialisation in the Basque Country"]),  # recording summary
        ("climate talk", []),  # cancelled, draft and upcoming are not in the archive
    ],
)
def test_search_box(client, archive, query, expected):
    found = titles(client, f"/past?q={query.replace('%', '%25')}")
    if expected is None:
        assert len(found) == 4
    else:
        assert found == expected


def test_filter_by_series_and_by_topic(client, archive):
    assert titles(client, "/past?series=smart-regions") == [
        "Green hydrogen in Magallanes",
        "Smart specialisation in the Basque Country",
    ]
    assert titles(client, "/past?tag=sdg-13-climate-action") == ["Green hydrogen in Magallanes"]
    assert titles(client, "/past?tag=sdg-6-clean-water-and-sanitation&series=smart-regions") == []
    assert titles(client, "/past?series=smart-regions&q=specialisation") == [
        "Smart specialisation in the Basque Country"
    ]
    page = client.get("/past?tag=no-such-topic").get_data(as_text=True)
    assert "No past webinar matches this search." in page
    assert 'href="/past">Show all past webinars' in page


def test_filter_choices_offer_what_the_archive_holds(client, archive):
    page = client.get("/past?tag=sdg-13-climate-action").get_data(as_text=True)
    assert '<option value="smart-regions">Smart Regions</option>' in page
    assert '<option selected value="sdg-13-climate-action">SDG 13 Climate action</option>' in page
    assert "1 webinar found." in page
    offered = re.findall(r'<option (?:selected )?value="sdg-[^"]*">([^<]*)</option>', page)
    assert [name.split()[1] for name in offered] == ["6", "7", "9", "13"]  # natural order


def test_pagination_keeps_the_filters(app_factory, frozen_clock):
    from webinars.extensions import db as database

    small = app_factory(PER_PAGE=2)
    with small.app_context():
        organizer = make_user()
        for n in range(5):
            make_event(
                organizer, title=f"Climate session {n}", tags=["SDG 13"], starts_in=timedelta(days=n + 1)
            )
        make_event(organizer, title="Other topic", starts_in=timedelta(days=9))
        frozen_clock.advance(days=20)
        client = small.test_client()
        first = client.get("/past?tag=sdg-13&q=climate").get_data(as_text=True)
        assert "Page 1 of 3" in first
        next_link = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
        assert "tag=sdg-13" in next_link
        assert "q=climate" in next_link
        assert "page=2" in next_link
        assert titles(client, next_link) == ["Climate session 2", "Climate session 1"]
        assert titles(client, "/past?tag=sdg-13&q=climate&page=3") == ["Climate session 0"]
        assert titles(client, "/past?tag=sdg-13&q=climate&page=9") == []
        database.session.remove()


def test_empty_archive_is_helpful(client, app):
    page = client.get("/past").get_data(as_text=True)
    assert "No past webinars yet." in page
    assert 'href="/">Upcoming webinars' in page
