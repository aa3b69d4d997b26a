"""Read-side queries for public pages and lists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Event, EventStatus

# A webinar stays under "upcoming" while it may still be running.
RUNNING_GRACE = timedelta(hours=3)


def public_events() -> Select[tuple[Event]]:
    """Webinars the public may see: published, or cancelled after having been announced."""
    return (
        select(Event)
        .where(
            (Event.status == EventStatus.PUBLISHED)
            | ((Event.status == EventStatus.CANCELLED) & Event.published_at.is_not(None))
        )
        .options(selectinload(Event.speakers))
    )


def upcoming() -> Select[tuple[Event]]:
    now = clock.now()
    return public_events().where(Event.starts_at >= now - RUNNING_GRACE).order_by(Event.starts_at, Event.id)


def past() -> Select[tuple[Event]]:
    now = clock.now()
    return (
        public_events()
        .where(Event.starts_at < now - RUNNING_GRACE, Event.status == EventStatus.PUBLISHED)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )


def public_by_slug(slug: str) -> Event | None:
    return db.session.execute(public_events().where(Event.slug == slug)).scalar_one_or_none()
