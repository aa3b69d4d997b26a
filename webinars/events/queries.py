"""Read-side queries for public pages and lists."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload, with_expression

from .. import clock
from ..extensions import db
from ..models import Event, EventStatus, Series, Speaker, Tag, User, WebhookEndpoint
from ..permissions import Capability, series_visible_to


def is_public() -> ColumnElement[bool]:
    """Published, or cancelled after having been announced."""
    return (Event.status == EventStatus.PUBLISHED) | (
        (Event.status == EventStatus.CANCELLED) & Event.published_at.is_not(None)
    )


def public_events() -> Select[Event]:
    """Webinars the public may see, with their speakers."""
    return (
        select(Event)
        .where(is_public())
        .options(
            selectinload(Event.speakers).joinedload(Speaker.photo),
            joinedload(Event.cover),
        )
    )


def upcoming() -> Select[Event]:
    """Webinars that have not ended: the ones to come and the ones live now, soonest first."""
    now = clock.now()
    return public_events().where(Event.ends_at > now).order_by(Event.starts_at, Event.id)


def past(q: str = "", series: str = "", tag: str = "") -> Select[Event]:
    """The archive: webinars that have ended (and archive entries), newest first; optionally only what
    matches ``q`` (see matching()), in the series with slug ``series``, with the topic tag with slug
    ``tag``. A webinar enters it the moment it ends."""
    now = clock.now()
    query = (
        public_events()
        .where(Event.ends_at <= now, Event.status == EventStatus.PUBLISHED)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    if q.strip():
        query = query.where(matching(q))
    if series:
        query = query.where(Event.series.has(Series.slug == series))
    if tag:
        query = query.where(Event.tags.any(Tag.slug == tag))
    return query


SEARCH_TERMS = 8


def _contains(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(text: str) -> ColumnElement[bool]:
    """Every word of ``text`` appears (case-insensitively) in the title, summary, description, recording
    summary or a speaker's name or affiliation. Wildcards typed by the visitor are taken literally."""
    conditions = []
    for term in text.split()[:SEARCH_TERMS]:
        pattern = _contains(term)
        conditions.append(
            or_(
                Event.title.ilike(pattern, escape="\\"),
                Event.summary.ilike(pattern, escape="\\"),
                Event.description_md.ilike(pattern, escape="\\"),
                Event.recording_summary.ilike(pattern, escape="\\"),
                Event.speakers.any(
                    or_(
                        Speaker.name.ilike(pattern, escape="\\"),
                        Speaker.affiliation.ilike(pattern, escape="\\"),
                    )
                ),
            )
        )
    return and_(*conditions)


def _has_webhook_endpoints() -> ColumnElement[bool]:
    scope = or_(
        WebhookEndpoint.event_id == Event.id,
        and_(Event.series_id.is_not(None), WebhookEndpoint.series_id == Event.series_id),
    )
    return exists().where(scope, WebhookEndpoint.active.is_(True)).correlate(Event)


def public_by_slug(slug: str, *, for_registration: bool = False) -> Event | None:
    """A public webinar. ``for_registration`` loads what a sign-up needs in the same query (the
    questions for the form, the series for the email's subject, whether anyone listens for webhooks),
    and not the speakers."""
    if for_registration:
        return db.session.execute(_for_registration(), {"slug": slug}).unique().scalar_one_or_none()
    return db.session.execute(public_events().where(Event.slug == slug)).unique().scalar_one_or_none()


@functools.cache
def _for_registration() -> Select[Event]:
    # Built once, the slug a parameter: every sign-up runs it, and building it (and its cache key)
    # cost more than running it.
    return (
        select(Event)
        .where(is_public(), Event.slug == bindparam("slug"))
        .options(
            joinedload(Event.series),
            joinedload(Event.questions),
            with_expression(Event.has_webhook_endpoints, _has_webhook_endpoints()),
        )
    )


def series_choices(user: User) -> list[tuple[int, str]]:
    """(id, title) of the series ``user`` may file webinars under, by title: the forms' choices."""
    query = series_visible_to(user, Capability.EDIT).order_by(Series.title, Series.id)
    return [(series.id, series.title) for series in db.session.scalars(query)]


# --- numbers within a series ---------------------------------------------------------------------------
# Webinars carry their number in a series ("Webinar #16"); the series pages and the webinar rules
# both ask for the next one, so the query lives here, below both.


def next_number(series_id: int) -> int:
    highest = db.session.scalar(select(func.max(Event.number)).where(Event.series_id == series_id))
    return (highest or 0) + 1


def next_numbers(series_ids: list[int]) -> dict[int, int]:
    """next_number() for several series in one query."""
    if not series_ids:
        return {}
    rows = db.session.execute(
        select(Event.series_id, func.max(Event.number))
        .where(Event.series_id.in_(series_ids))
        .group_by(Event.series_id)
    )
    highest = {series_id: number for series_id, number in rows}
    return {series_id: (highest.get(series_id) or 0) + 1 for series_id in series_ids}


def numbers_taken(series_id: int, numbers: range) -> list[int]:
    return list(
        db.session.scalars(
            select(Event.number)
            .where(Event.series_id == series_id, Event.number.between(numbers.start, numbers.stop - 1))
            .order_by(Event.number)
        )
    )
