"""Showing instants to people: in the webinar's zone, in UTC, or in the reader's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, format_datetime, get_timezone_location
from flask_babel import get_locale


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA zone names offered in forms (the canonical Area/City ones, plus UTC)."""
    names = {
        name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))
    }
    return tuple(sorted(names | {"UTC"}))


def is_timezone(name: str) -> bool:
    return name in timezone_names()


def utc_offset(moment: datetime, zone: str) -> str:
    offset = moment.astimezone(ZoneInfo(zone)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("+0000", "") else "UTC"


def in_zone(moment: datetime, zone: str, fmt: str | None = None) -> str:
    """'Tuesday, December 15, 2026, 16:00 (America/Santiago, UTC-03:00)' in the current language
    (the date in the language's own full form, the time on a 24-hour clock); ``fmt`` is a Babel
    pattern for compact lists."""
    locale = str(get_locale() or "en")
    if fmt is None:
        local = moment.astimezone(ZoneInfo(zone))
        text = f"{format_date(local.date(), 'full', locale=locale)}, {local:%H:%M}"
    else:
        text = format_datetime(moment, fmt, tzinfo=ZoneInfo(zone), locale=locale)
    if zone == "UTC":
        return f"{text} (UTC)"
    return f"{text} ({zone.replace('_', ' ')}, {utc_offset(moment, zone)})"


def zone_label(zone: str, locale: str | None = None) -> str:
    """The zone as people name it, in their language ("São Paulo", "Santiago de Chile"), from the CLDR
    data Babel carries; the last part of the IANA name where CLDR has no city of its own."""
    if zone == "UTC":
        return "UTC"
    city = get_timezone_location(zone, locale=locale or str(get_locale() or "en"), return_city=True)
    return city.rsplit("/", 1)[-1].replace("_", " ")


def in_zone_named(moment: datetime, zone: str) -> str:
    """'Tuesday, December 15, 2026, 16:00 (Santiago de Chile, UTC-03:00)': ``in_zone`` with the zone's
    friendly name, for pages (emails and calendars keep the IANA name people can look up)."""
    locale = str(get_locale() or "en")
    local = moment.astimezone(ZoneInfo(zone))
    text = f"{format_date(local.date(), 'full', locale=locale)}, {local:%H:%M}"
    if zone == "UTC":
        return f"{text} (UTC)"
    return f"{text} ({zone_label(zone, locale)}, {utc_offset(moment, zone)})"


def in_utc(moment: datetime) -> str:
    return in_zone(moment.astimezone(UTC), "UTC")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def period_in_zone(
    zone: str, first_day: date | None, last_day: date | None
) -> tuple[datetime | None, datetime | None]:
    """Whole days in ``zone`` as UTC bounds: from the start of the first to the end of the last."""
    tz = ZoneInfo(zone)
    since = datetime.combine(first_day, time(), tzinfo=tz).astimezone(UTC) if first_day else None
    until = (
        datetime.combine(last_day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
        if last_day
        else None
    )
    return since, until
