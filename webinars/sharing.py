"""What search engines and link previews read: schema.org JSON-LD, Open Graph and Twitter cards,
for the webinar and series pages (the sitemap and robots.txt are events/sitemap.py).

Everything here points at public pages and public pictures only: the join link is for confirmed
attendees and never appears in metadata (a crawler would publish it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import current_app, has_request_context, request, url_for

from . import pagecache, site
from .images import service as images
from .models import Event, Image, Series
from .timefmt import in_zone, iso_utc
from .urls import external_url as _configured_url

SCHEMA = "https://schema.org/"


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link as visitors reach the site: from the request (which follows the proxy's scheme
    and host when TRUSTED_PROXIES says so), from BASE_URL outside one."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return _configured_url(endpoint, **values)


def absolute(url: str) -> str:
    base = request.host_url if has_request_context() else current_app.config["BASE_URL"] + "/"
    return urljoin(base, url)


def image_urls(image: Image | None) -> list[str]:
    """The stored widths as absolute JPEG URLs, largest first (what card crawlers all read)."""
    if image is None:
        return []
    return [absolute(images.url(image, width, "jpg")) for width in reversed(image.width_list)]


def event_status(event: Event) -> str:
    if event.is_cancelled:
        return SCHEMA + "EventCancelled"
    if event.is_rescheduled:
        return SCHEMA + "EventRescheduled"
    return SCHEMA + "EventScheduled"


def availability(event: Event) -> str:
    # Whether it is full is part of a kept page's key, so the answer may be written into it.
    pagecache.watch(event)
    if not event.registration_open() or event.seats_left == 0:
        return SCHEMA + "SoldOut"
    if event.seats_left is not None:
        return SCHEMA + "LimitedAvailability"
    return SCHEMA + "InStock"


def _organization() -> dict[str, Any]:
    return {"@type": "Organization", "name": site.site_name(), "url": absolute("/")}


def event_json_ld(event: Event, *, with_context: bool = True) -> dict[str, Any]:
    page = external_url("events.detail", slug=event.slug)
    data: dict[str, Any] = {
        "@type": "Event",
        "name": event.full_title,
        "inLanguage": event.language,
        "url": page,
        "startDate": iso_utc(event.starts_at),
        "endDate": iso_utc(event.ends_at),
        "eventAttendanceMode": SCHEMA + "OnlineEventAttendanceMode",
        "eventStatus": event_status(event),
        "location": {"@type": "VirtualLocation", "url": page},
        "organizer": _organization(),
        "isAccessibleForFree": True,
        "offers": {
            "@type": "Offer",
            "url": page,
            "price": "0",
            "priceCurrency": current_app.config["OFFER_CURRENCY"],
            "availability": availability(event),
            "validThrough": iso_utc(event.registration_closes_at),
        },
    }
    if with_context:
        data = {"@context": "https://schema.org", **data}
    if event.summary:
        data["description"] = event.summary
    if event.published_at:
        data["offers"]["validFrom"] = iso_utc(event.published_at)
    if event.seats_left is not None:
        data["remainingAttendeeCapacity"] = pagecache.seats_left(event)
        data["maximumAttendeeCapacity"] = event.capacity
    if event.is_rescheduled and event.previous_starts_at is not None:
        data["previousStartDate"] = iso_utc(event.previous_starts_at)
    if pictures := image_urls(event.cover):
        data["image"] = pictures
    if event.speakers:
        data["performer"] = [_person(speaker) for speaker in event.speakers]
    if event.series is not None:
        data["superEvent"] = {
            "@type": "EventSeries",
            "name": event.series.title,
            "url": external_url("series.detail", slug=event.series.slug),
        }
    return data


def _person(speaker: Any) -> dict[str, Any]:
    person: dict[str, Any] = {"@type": "Person", "name": speaker.name}
    if speaker.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": speaker.affiliation}
    if speaker.photo is not None:
        person["image"] = image_urls(speaker.photo)[0]
    return person


def series_json_ld(series: Series, events: list[Event]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "EventSeries",
        "name": series.title,
        "url": external_url("series.detail", slug=series.slug),
        "organizer": _organization(),
        "eventAttendanceMode": SCHEMA + "OnlineEventAttendanceMode",
        "subEvent": [event_json_ld(event, with_context=False) for event in events],
    }
    if pictures := image_urls(series.cover):
        data["image"] = pictures
    return data


def event_card(event: Event) -> dict[str, str]:
    """Open Graph and Twitter card values: the time is given in the webinar's own zone, which is the
    one an organizer announces; each reader's own zone is on the page."""
    when = in_zone(event.starts_at, event.timezone)
    description = f"{when}. {event.summary}" if event.summary else when
    return _card(
        event.full_title,
        description,
        external_url("events.detail", slug=event.slug),
        event.cover,
        event.cover_alt,
    )


def series_card(series: Series, description: str) -> dict[str, str]:
    return _card(
        series.title,
        description,
        external_url("series.detail", slug=series.slug),
        series.cover,
        series.cover_alt,
    )


def _card(title: str, description: str, url: str, image: Image | None, alt: str) -> dict[str, str]:
    card = {"title": title, "description": description[:300], "url": url, "image": "", "image_alt": alt}
    if image is not None:
        largest = image.width_list[-1]
        card.update(
            image=image_urls(image)[0], image_width=str(largest), image_height=str(image.height_at(largest))
        )
    return card
