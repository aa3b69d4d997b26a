"""What link previews and search engines read, parsed by independent parsers (extruct for JSON-LD and
Open Graph, the standard library for the sitemap)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import extruct
from sqlalchemy import select

from tests import images
from tests.factories import JOIN_URL, edited, make_event, make_registration, make_series, make_user
from tests.helpers import submit
from tests.helpers import webinar_form as _form
from webinars.events import service as events
from webinars.extensions import db
from webinars.models import Event

BASE = "http://localhost"  # the test client's host: links follow the request
REQUIRED_EVENT_PROPERTIES = (
    "name",
    "startDate",
    "endDate",
    "eventAttendanceMode",
    "eventStatus",
    "location",
    "organizer",
    "offers",
)


def _metadata(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return extruct.extract(
        response.get_data(as_text=True), base_url=BASE + url, syntaxes=["json-ld", "opengraph"], uniform=True
    )


def _event_ld(client, event: Event) -> dict:
    found = [
        item for item in _metadata(client, f"/webinars/{event.slug}")["json-ld"] if item["@type"] == "Event"
    ]
    assert len(found) == 1
    return found[0]


def test_webinar_page_carries_a_schema_org_event(client, app):
    event = make_event(capacity=30)
    data = _event_ld(client, event)
    for name in REQUIRED_EVENT_PROPERTIES:
        assert name in data, name
    assert data["@context"] in ("https://schema.org", "http://schema.org")
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["location"] == {"@type": "VirtualLocation", "url": f"{BASE}/webinars/{event.slug}"}
    assert data["startDate"] == event.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["offers"]["availability"] == "https://schema.org/LimitedAvailability"
    assert data["remainingAttendeeCapacity"] == 30
    assert [person["name"] for person in data["performer"]] == ["Ane Etxeberria", "Camila Rojas"]
    assert data["performer"][0]["affiliation"]["name"] == "Orkestra, Basque Country"
    assert data["organizer"]["@type"] == "Organization"


def test_the_join_link_is_in_no_metadata(client, app):
    event = make_event()
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert JOIN_URL not in page
    assert "meet.example.org" not in page


def test_full_cancelled_and_rescheduled_webinars_say_so(client, app):
    full = make_event(capacity=1, title="Full one")
    make_registration(full, "first@example.org")
    assert _event_ld(client, full)["offers"]["availability"] == "https://schema.org/SoldOut"

    moved = make_event(title="Moved one")
    before = moved.starts_at
    events.update_event(moved, edited(moved, starts_at=moved.starts_at + timedelta(days=2)))
    data = _event_ld(client, moved)
    assert data["eventStatus"] == "https://schema.org/EventRescheduled"
    assert data["previousStartDate"] == before.strftime("%Y-%m-%dT%H:%M:%SZ")

    cancelled = make_event(title="Cancelled one")
    events.cancel_event(cancelled)
    assert _event_ld(client, cancelled)["eventStatus"] == "https://schema.org/EventCancelled"


def test_open_graph_and_twitter_cards_name_the_time_in_the_webinars_zone(client, app, auth):
    owner = make_user()
    auth.login(owner)
    form = _form(cover=(io.BytesIO(images.jpeg()), "cover.jpg"), cover_alt="The two speakers")
    assert submit(client, "/manage/webinars/new", form, content_type="multipart/form-data").status_code == 302
    event = db.session.scalars(select(Event)).one()
    events.publish(event)
    metadata = _metadata(client, f"/webinars/{event.slug}")
    card = metadata["opengraph"][0]
    assert card["og:title"] == event.title
    assert "16:00" in card["og:description"]
    assert "UTC−03:00" in card["og:description"] or "UTC−04:00" in card["og:description"]
    assert card["og:image"] == f"{BASE}/media/{event.cover.key}-1280.jpg"
    assert card["og:image:alt"] == "The two speakers"
    assert card["og:url"] == f"{BASE}/webinars/{event.slug}"
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    ld = [item for item in metadata["json-ld"] if item["@type"] == "Event"][0]
    assert ld["image"][0] == card["og:image"]


def test_series_page_lists_its_webinars_as_events(client, app):
    owner = make_user()
    series = make_series(owner, title="Smart Regions")
    make_event(owner, series_id=series.id, title="First in the series")
    metadata = _metadata(client, f"/series/{series.slug}")
    ld = metadata["json-ld"][0]
    assert ld["@type"] == "EventSeries"
    assert [event["name"] for event in ld["subEvent"]] == ["Smart Regions #1: First in the series"]
    assert ld["subEvent"][0]["location"]["@type"] == "VirtualLocation"
    assert metadata["opengraph"][0]["og:title"] == "Smart Regions"
    assert "First in the series" in metadata["opengraph"][0]["og:description"]


def test_sitemap_lists_public_pages_only(client, app):
    owner = make_user()
    series = make_series(owner)
    public = make_event(owner, title="Public one")
    draft = make_event(owner, title="Draft one", publish=False)
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    namespace = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [loc.text for loc in ET.fromstring(response.data).findall("sm:url/sm:loc", namespace)]
    assert f"{BASE}/webinars/{public.slug}" in urls
    assert f"{BASE}/series/{series.slug}" in urls
    assert f"{BASE}/webinars/{draft.slug}" not in urls


def test_robots_txt_points_at_the_sitemap_and_keeps_organizer_pages_out(client, app):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {BASE}/sitemap.xml" in text.splitlines()
    assert "Disallow: /manage/" in text.splitlines()


def test_the_json_ld_block_carries_the_pages_script_nonce(client, app):
    event = make_event()
    response = client.get(f"/webinars/{event.slug}")
    policy = response.headers["Content-Security-Policy"]
    nonce = next(source for source in policy.replace(";", " ").split() if source.startswith("'nonce-"))[7:-1]
    assert f'<script type="application/ld+json" nonce="{nonce}">' in response.get_data(as_text=True)
