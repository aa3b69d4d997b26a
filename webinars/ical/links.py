"""Calendar links: add one webinar to Google Calendar or Outlook.com, or subscribe to a feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ..models import Event
from ..urls import external_url


def _compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _details(event: Event, join_url: str | None) -> tuple[str, str]:
    page_url = external_url("events.detail", slug=event.slug)
    body = "\n\n".join(part for part in (event.summary, join_url, page_url) if part)
    return body, join_url or page_url


def google_url(event: Event, join_url: str | None = None) -> str:
    body, location = _details(event, join_url)
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": event.title,
            "dates": f"{_compact(event.starts_at)}/{_compact(event.ends_at)}",
            "details": body,
            "location": location,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_url(event: Event, join_url: str | None = None) -> str:
    body, location = _details(event, join_url)
    query = urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": event.title,
            "startdt": _iso(event.starts_at),
            "enddt": _iso(event.ends_at),
            "body": body,
            "location": location,
        }
    )
    return f"https://outlook.live.com/calendar/deeplink/compose?{query}"


# --- subscribe links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscribeLinks:
    https: str  # download, or "subscribe from URL" in Google Calendar and Outlook.com
    webcal: str  # Apple Calendar and Outlook open this as a subscription
    google: str  # Google Calendar's "add this calendar" page


def subscribe_links(endpoint: str, **values: Any) -> SubscribeLinks:
    url = external_url(endpoint, **values)
    parts = urlsplit(url)
    webcal = urlunsplit(("webcal", *parts[1:]))
    google = "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")
    return SubscribeLinks(https=url, webcal=webcal, google=google)
