"""Subscribable calendars (site-wide and per series) and the Atom feed of announced webinars.

What a feed holds
    Public webinars (published, or cancelled after having been announced; see
    events.queries.public_events) that start at most ``FEED_WINDOW`` (90 days) ago, oldest first.
    A series feed also holds the series' archive entries of any age: a programme's calendar shows its
    whole numbered history, which a series keeps small, while the site feed stays a short window.
    A cancelled webinar stays in the feed with STATUS:CANCELLED and its raised SEQUENCE, so subscribed
    calendars remove or strike it instead of keeping a stale entry. The UIDs are the invitations' UIDs
    (``Event.ical_uid``): a person who registered and also subscribed sees one entry, not two.

Caching
    DTSTAMP is the webinar's ``updated_at``, so the same data gives the same bytes. The ETag is a hash
    of the feed without its DTSTAMP lines (weak, since two bodies with equal ETags may differ in
    DTSTAMP only): it changes exactly when something a calendar shows changes, and a conditional GET
    with If-None-Match gets 304 Not Modified.

Queries
    A constant number, whatever the number of webinars: one for the webinars and one per eager-loaded
    relationship (speakers, owner, series, tags), plus one for the series of a series feed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Calendar, vDuration
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import selectinload

from .. import clock, site
from ..events import queries
from ..extensions import db
from ..ical import ics
from ..models import Event, EventKind, Series, SiteSettings
from ..text import clean_text, render_markdown, single_line
from ..urls import external_url, site_host

FEED_WINDOW = timedelta(days=90)
REFRESH = timedelta(hours=1)
ATOM_ENTRIES = 50
# An empty feed still needs an <updated>; a fixed instant keeps its ETag stable.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _feed_query(series: Series | None) -> Select[Event]:
    query = queries.public_events().options(
        selectinload(Event.owner), selectinload(Event.series), selectinload(Event.tags)
    )
    if series is not None:
        query = query.where(Event.series_id == series.id)
    return query


def feed_events(series: Series | None = None) -> list[Event]:
    """The webinars of a calendar feed: public ones from FEED_WINDOW ago onward, by start."""
    query = _feed_query(series).where(_in_window(series)).order_by(Event.starts_at, Event.id)
    return list(db.session.scalars(query))


def build_calendar(events: list[Event], *, name: str, description: str, source: str) -> Calendar:
    """METHOD:PUBLISH with the RFC 7986 calendar properties a subscribed calendar reads."""
    calendar = ics.new_calendar("PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if description:
        calendar.add("description", description)
        calendar.add("x-wr-caldesc", description)
    # icalendar 7 writes REFRESH-INTERVAL without ;VALUE=DURATION, which RFC 7986 requires.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("source", source, parameters={"VALUE": "URI"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for event in events:
        vevent = ics.build_vevent(event, stamp=event.updated_at, private=False)
        categories = ([event.series.title] if event.series else []) + [tag.name for tag in event.tags]
        if categories:
            vevent.add("categories", [single_line(name) for name in categories])
        calendar.add_component(vevent)
    return calendar


def _in_window(series: Series | None) -> ColumnElement[bool]:
    recent = Event.starts_at >= clock.now() - FEED_WINDOW
    return recent if series is None else or_(recent, Event.kind == EventKind.ARCHIVE)


def _version(series: Series | None) -> tuple[Any, ...]:
    """What a feed's bytes depend on, read in one cheap query: its webinars (membership through the
    count and the sum of ids, edits through the latest updated_at), the series titles it shows and
    the site's name (through the brand's version)."""
    series_changed = select(func.max(Series.updated_at)).scalar_subquery()
    brand_changed = select(func.max(SiteSettings.version)).scalar_subquery()
    query = select(
        func.count(Event.id), func.sum(Event.id), func.max(Event.updated_at), series_changed, brand_changed
    ).where(queries.is_public(), _in_window(series))
    if series is not None:
        query = query.where(Event.series_id == series.id)
    return tuple(db.session.execute(query).one())


_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 64


def _cached(series: Series | None, build: Callable[[], bytes]) -> bytes:
    """Serialising hundreds of events costs far more than the query that tells whether they changed:
    keep recent feeds per process, keyed by that version (and the language and base URL)."""
    key = (
        series.id if series else None,
        str(get_locale() or ""),
        current_app.config["BASE_URL"],
        current_app.config["SQLALCHEMY_DATABASE_URI"],
        *_version(series),
    )
    with _cache_lock:
        body = _cache.get(key)
        if body is not None:
            _cache.move_to_end(key)
            return body
    body = build()
    with _cache_lock:
        _cache[key] = body
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return body


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def site_calendar() -> bytes:
    return _cached(None, _build_site_calendar)


def series_calendar(series: Series) -> bytes:
    return _cached(series, lambda: _build_series_calendar(series))


def _build_site_calendar() -> bytes:
    name = site.site_name()
    description = _("Webinars announced on %(site)s.", site=name)
    calendar = build_calendar(
        feed_events(), name=name, description=description, source=external_url("calendar.site_feed")
    )
    return bytes(calendar.to_ical())


def _build_series_calendar(series: Series) -> bytes:
    name = f"{series.title} · {site.site_name()}"
    description = _("Webinars in the series “%(title)s”.", title=series.title)
    calendar = build_calendar(
        feed_events(series),
        name=name,
        description=description,
        source=external_url("calendar.series_feed", slug=series.slug),
    )
    return bytes(calendar.to_ical())


def content_etag(body: bytes) -> str:
    """A hash of the feed without its DTSTAMP lines (DTSTAMP never decides whether a feed changed)."""
    lines = (line for line in body.split(b"\r\n") if not line.startswith(b"DTSTAMP"))
    return hashlib.sha256(b"\r\n".join(lines)).hexdigest()[:32]


# --- Atom ----------------------------------------------------------------------------------------------


def announced_events(limit: int = ATOM_ENTRIES) -> list[Event]:
    """The most recently announced public webinars, newest announcement first."""
    query = (
        _feed_query(None)
        .where(Event.published_at.is_not(None))
        .order_by(Event.published_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def atom_entry_id(event: Event) -> str:
    """A tag: URI (RFC 4151) that never changes, even if the site moves to another path."""
    host = site_host()
    announced = event.published_at or event.created_at
    return f"tag:{host},{announced:%Y-%m-%d}:webinar/{event.id}"


def atom_updated(event: Event) -> datetime:
    """When the entry last changed for a news reader: its announcement, or its cancellation.

    Not ``updated_at``: that moves with every seat taken, and readers would show the entry as new.
    """
    moments = [event.published_at or event.created_at]
    if event.is_cancelled and event.cancelled_at:
        moments.append(event.cancelled_at)
    return max(moments)


def atom_feed() -> bytes:
    events = announced_events()
    updated = max((atom_updated(event) for event in events), default=EPOCH)
    entries = [
        {
            "event": event,
            "id": atom_entry_id(event),
            "updated": atom_updated(event),
            "url": external_url("events.detail", slug=event.slug),
            "content": render_markdown(event.description_md),
        }
        for event in events
    ]
    body = render_template(
        "feeds/webinars.atom.xml",
        entries=entries,
        updated=updated,
        feed_id=f"tag:{site_host()},2000:webinars",
        self_url=external_url("calendar.atom_feed"),
        site_url=external_url("events.index"),
    )
    # XML 1.0 cannot hold control characters at all (not even escaped): whatever an older row holds
    # is dropped, so one title can never make the whole feed unreadable.
    return clean_text(body).encode("utf-8")
