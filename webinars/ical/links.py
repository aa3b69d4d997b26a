"""Add-to-calendar links for Google Calendar and Outlook.com."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

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
