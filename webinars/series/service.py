"""Series rules: who may use a series, its numbering, its pages, and recurring schedules.

A recurring schedule is computed with ``dateutil.rrule`` on *wall-clock* times in the webinar's zone
("every second Tuesday at 16:00 America/Santiago"), and each occurrence is converted to UTC on its own,
so 16:00 stays 16:00 local on both sides of a daylight-saving change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, languages
from ..database import unique_slug, writing
from ..events import queries
from ..events import service as events
from ..events.queries import next_number, numbers_taken
from ..extensions import db
from ..images import service as images
from ..images.service import ImageChange
from ..models import Event, EventStatus, Series, User
from ..permissions import Capability, may, series_visible_to
from ..rules import RuleError
from ..text import slugify
from ..validators import date_errors, text_errors

MAX_OCCURRENCES = 52
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# --- who may do what -------------------------------------------------------------------------------


def manageable(user: User) -> Select[Series]:
    """A select() of the series ``user`` may file webinars under, by title."""
    return series_visible_to(user, Capability.EDIT).order_by(Series.title, Series.id)


# --- reading -------------------------------------------------------------------------------------------


def by_slug(slug: str) -> Series | None:
    return db.session.execute(select(Series).where(Series.slug == slug)).scalar_one_or_none()


def _count_by_series(query: Select[Event]) -> dict[int, int]:
    rows = query.order_by(None).subquery()
    counted = db.session.execute(
        select(rows.c.series_id, func.count()).where(rows.c.series_id.is_not(None)).group_by(rows.c.series_id)
    )
    return {series_id: count for series_id, count in counted}


def public_list() -> list[tuple[Series, int, int]]:
    """Every series with its numbers of upcoming and past public webinars, by title."""
    upcoming = _count_by_series(queries.upcoming().where(Event.status == EventStatus.PUBLISHED))
    past = _count_by_series(queries.past())
    series_list = db.session.scalars(select(Series).order_by(Series.title, Series.id))
    return [(series, upcoming.get(series.id, 0), past.get(series.id, 0)) for series in series_list]


PAST_ON_PAGE = 12


def series_events(series: Series) -> tuple[list[Event], list[Event]]:
    """The series' public webinars: (upcoming, the most recent past ones)."""
    upcoming = list(db.session.scalars(queries.upcoming().where(Event.series_id == series.id)))
    past = list(db.session.scalars(queries.past().where(Event.series_id == series.id).limit(PAST_ON_PAGE)))
    return upcoming, past


# --- changing ------------------------------------------------------------------------------------------


@dataclass
class SeriesData:
    title: str
    slug: str = ""
    description_md: str = ""
    # None keeps the owners (a new series: its creator). Pages never set it: owners join through the
    # series' team page, by invitation; the command line and tests may.
    owner_ids: list[int] | None = None
    cover: ImageChange | None = None
    # Empty keeps the series' language (a new one takes the organizer's).
    language: str = ""


def _apply(series: Series, data: SeriesData, editor: User) -> None:
    errors = text_errors(
        one_line={"title": data.title, "slug": data.slug}, multiline={"description": data.description_md}
    )
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = str(_l("Give the series a title."))
    wanted = data.slug.strip().lower()
    if wanted and not SLUG_PATTERN.match(wanted):
        errors["slug"] = str(
            _l("Use lower-case letters, digits and hyphens only, for example smart-regions.")
        )
    elif wanted:
        clash = select(Series.id).where(Series.slug == wanted)
        if series.id is not None:
            clash = clash.where(Series.id != series.id)
        if db.session.execute(clash).first() is not None:
            errors["slug"] = str(_l("Another series already uses this address."))
    owners: list[User] | None = None
    if data.owner_ids is not None or series.id is None:
        owner_ids = set(data.owner_ids or [editor.id])
        if not editor.is_admin:
            owner_ids.add(editor.id)  # an organizer never locks themselves out of their own series
        owners = list(db.session.scalars(select(User).where(User.id.in_(owner_ids))))
        if not owners:
            errors["owners"] = str(_l("Choose at least one owner."))
    errors.update(languages.language_errors(data.language))
    if errors:
        raise RuleError(errors)
    series.title = title[:200]
    # A blank address keeps the current one (subscriptions use it), or is made from the title.
    series.slug = wanted or series.slug or unique_slug(Series, slugify(title, 200), series.id)
    series.description_md = data.description_md
    if owners is not None:
        series.owners = owners
    series.language = data.language or series.language or languages.default_content_language()
    images.apply(series, "cover", data.cover)


def create_series(editor: User, data: SeriesData) -> Series:
    """A new series. Commits."""
    with writing():
        series = Series()
        _apply(series, data, editor)
        db.session.add(series)
        db.session.commit()
    return series


def update_series(series: Series, editor: User, data: SeriesData) -> None:
    """Change a series (a new slug changes its page and feed addresses). Commits."""
    with writing():
        _apply(series, data, editor)
        db.session.commit()


# --- recurring schedules ----------------------------------------------------------------------------


class Frequency(StrEnum):
    WEEKLY = "weekly"  # every N weeks, on the first date's weekday
    MONTHLY = "monthly"  # every N months, on the first date's day of the month (or the month's last day)
    MONTHLY_WEEKDAY = "monthly_weekday"  # every N months, on the same weekday (e.g. the second Tuesday)


def _rule(first: datetime, freq: Frequency, interval: int, count: int) -> rrule:
    if freq == Frequency.WEEKLY:
        return rrule(WEEKLY, dtstart=first, interval=interval, count=count)
    if freq == Frequency.MONTHLY:
        if first.day <= 28:
            return rrule(MONTHLY, dtstart=first, interval=interval, count=count)
        # The 29th-31st: that day, or the last day of a shorter month (never a skipped month).
        return rrule(
            MONTHLY, dtstart=first, interval=interval, count=count, bymonthday=(first.day, -1), bysetpos=1
        )
    nth = (first.day - 1) // 7 + 1
    # A fifth Tuesday does not exist in every month: take "the last Tuesday" instead.
    return rrule(
        MONTHLY,
        dtstart=first,
        interval=interval,
        count=count,
        byweekday=weekday(first.weekday(), -1 if nth == 5 else nth),
    )


def occurrences(
    first_local: datetime, freq: Frequency | str, interval: int, count: int, tz: str | ZoneInfo
) -> list[datetime]:
    """The starts of a recurring schedule, as aware UTC datetimes.

    ``first_local`` is the first start as a wall-clock time in ``tz`` (naive, or aware: its own zone is
    dropped). The rule runs on wall-clock times and each one is placed in the zone separately, so the
    local hour is the same for every occurrence across daylight-saving changes. A wall-clock time that
    does not exist on some day (inside a spring-forward gap) moves forward by the gap, as clocks do; an
    ambiguous one (autumn) takes its first occurrence.
    """
    if not 1 <= count <= MAX_OCCURRENCES:
        raise ValueError(f"count must be between 1 and {MAX_OCCURRENCES}")
    if interval < 1:
        raise ValueError("interval must be at least 1")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    first = first_local.replace(tzinfo=None, fold=0)
    return [
        local.replace(tzinfo=zone).astimezone(UTC) for local in _rule(first, Frequency(freq), interval, count)
    ]


@dataclass
class ScheduleData:
    """A recurring schedule: one draft webinar per occurrence."""

    title: str  # may contain {number} and {date}
    first_local: datetime  # naive wall-clock time of the first start, in ``timezone``
    timezone: str
    frequency: Frequency = Frequency.WEEKLY
    interval: int = 1
    count: int = 1
    duration_minutes: int = 60
    series_id: int | None = None
    first_number: int | None = None  # None: the next number in the series
    summary: str = ""
    description_md: str = ""
    join_url: str = ""
    capacity: int | None = None
    tags: list[str] = field(default_factory=list)
    speakers: list[tuple[str, str]] = field(default_factory=list)
    publish: bool = False  # publish every draft as soon as it is created


@dataclass
class PlannedWebinar:
    number: int | None
    title: str
    starts_at: datetime


def title_for(pattern: str, number: int | None, position: int, local_start: datetime) -> str:
    """The pattern with {number} (the series number, or the position without a series) and {date}."""
    shown = number if number is not None else position
    return pattern.replace("{number}", str(shown)).replace("{date}", local_start.date().isoformat()).strip()


def plan_schedule(owner: User, data: ScheduleData) -> list[PlannedWebinar]:
    """The webinars a schedule would create for ``owner``, checked against the rules; raises RuleError."""
    errors = text_errors(
        one_line={"title": data.title, "join_url": data.join_url, "tags": ",".join(data.tags)},
        multiline={"summary": data.summary},
    )
    errors.update(date_errors({"first_date": data.first_local}))
    if errors:  # the dates below are computed from these values
        raise RuleError(errors)
    if data.series_id is not None:
        series = db.session.get(Series, data.series_id)
        if series is None or not may(owner, Capability.EDIT, series):
            raise RuleError.on("series", str(_l("Choose a series you own.")))
    starts = occurrences(data.first_local, data.frequency, data.interval, data.count, data.timezone)
    if starts[0] <= clock.now():
        errors["first_date"] = str(_l("The first webinar must start in the future."))
    numbers: list[int | None] = [None] * len(starts)
    if data.series_id is not None:
        first = data.first_number if data.first_number is not None else next_number(data.series_id)
        wanted = range(first, first + len(starts))
        taken = numbers_taken(data.series_id, wanted)
        if taken:
            errors["first_number"] = str(
                _l(
                    "Numbers already used in this series: %(numbers)s. Start after them.",
                    numbers=", ".join(f"#{n}" for n in taken),
                )
            )
        numbers = list(wanted)
    if errors:
        raise RuleError(errors)
    zone = ZoneInfo(data.timezone)
    return [
        PlannedWebinar(number, title_for(data.title, number, i, start.astimezone(zone))[:200], start)
        for i, (number, start) in enumerate(zip(numbers, starts, strict=True), start=1)
    ]


def create_schedule(owner: User, data: ScheduleData) -> list[Event]:
    """Create one draft webinar per occurrence, each with its own registration, numbered in a row,
    all with the schedule's description, speakers and topics (and all published if ``data.publish``).

    Every draft goes through events.service.create_event (which commits one by one); the whole plan is
    checked first, so a refused schedule creates nothing.
    """
    created: list[Event] = []
    for planned in plan_schedule(owner, data):
        try:
            event = events.create_event(
                owner,
                events.EventData(
                    title=planned.title,
                    starts_at=planned.starts_at,
                    timezone=data.timezone,
                    duration_minutes=data.duration_minutes,
                    summary=data.summary,
                    description_md=data.description_md,
                    join_url=data.join_url,
                    capacity=data.capacity,
                    series_id=data.series_id,
                    number=planned.number,
                    tags=list(data.tags),
                    speakers=list(data.speakers),
                ),
            )
        except IntegrityError as error:
            # Another organizer took one of these numbers since the plan was checked.
            db.session.rollback()
            message = _l(
                "%(done)s of %(count)s drafts were created; then a number was taken meanwhile. "
                "Schedule the rest again.",
                done=len(created),
                count=data.count,
            )
            raise RuleError.on("first_number", str(message)) from error
        created.append(event)
    if data.publish:
        events.publish_many(owner, [event.id for event in created])
    return created


def for_manage_list(user: User) -> list[tuple[Series, int]]:
    """The series ``user`` has a role on (viewers too), with their owners loaded and how many webinars
    each holds."""
    visible = series_visible_to(user, Capability.VIEW).order_by(Series.title, Series.id)
    series_list = list(db.session.scalars(visible.options(selectinload(Series.owners))))
    counts: dict[int, int] = {}
    if series_list:
        rows = db.session.execute(
            select(Event.series_id, func.count(Event.id))
            .where(Event.series_id.in_([s.id for s in series_list]))
            .group_by(Event.series_id)
        )
        # The query filters on series ids, so every row has one.
        counts = {series_id: count for series_id, count in rows if series_id is not None}
    return [(series, counts.get(series.id, 0)) for series in series_list]
