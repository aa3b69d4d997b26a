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


# U+2212, the minus sign: screen readers say "minus" where they would read a hyphen as "dash", and it
# lines up with the plus. The same notation is written by static/site.js for the visitor's own zone.
MINUS = "\u2212"


def utc_offset(moment: datetime, zone: str) -> str:
    """The one offset notation of the site, pages and emails alike: "UTC\u221203:00", "UTC+01:00", "UTC"."""
    offset = moment.astimezone(ZoneInfo(zone)).strftime("%z")
    if offset in ("+0000", "-0000", ""):
        return "UTC"
    sign = MINUS if offset[0] == "-" else "+"
    return f"UTC{sign}{offset[1:3]}:{offset[3:5]}"


def zone_label(zone: str, locale: str | None = None) -> str:
    """The zone as people name it, in their language ("São Paulo", "Santiago de Chile"), from the CLDR
    data Babel carries (``get_timezone_location``); the last part of the IANA name where CLDR has no
    city of its own. The city, not CLDR's whole location phrase: "Horário Brasil (São Paulo)" does
    not read naturally in Portuguese, while the city and the offset say everything in any language."""
    if zone == "UTC":
        return "UTC"
    city = get_timezone_location(zone, locale=locale or str(get_locale() or "en"), return_city=True)
    return city.rsplit("/", 1)[-1].replace("_", " ")


def in_zone(moment: datetime, zone: str, fmt: str | None = None, locale: str | None = None) -> str:
    """'Tuesday, December 15, 2026, 16:00 (Santiago, UTC\u221203:00)' in the current language (the
    date in the language's own full form, the time on a 24-hour clock, the zone by its friendly name);
    ``fmt`` is a Babel pattern for compact lists."""
    locale = locale or str(get_locale() or "en")
    if fmt is None:
        local = moment.astimezone(ZoneInfo(zone))
        text = f"{format_date(local.date(), 'full', locale=locale)}, {local:%H:%M}"
    else:
        text = format_datetime(moment, fmt, tzinfo=ZoneInfo(zone), locale=locale)
    if zone == "UTC":
        return f"{text} (UTC)"
    return f"{text} ({zone_label(zone, locale)}, {utc_offset(moment, zone)})"


# Pages called the friendly form by this name while emails still showed IANA ids; both are one now.
in_zone_named = in_zone


def times_for_reader(moment: datetime, event_zone: str, reader_zone: str | None) -> list[tuple[str, str]]:
    """(which, text) lines for an email: the reader's own time first (when they told us their zone
    and it differs), then the webinar's zone, then UTC (unless the webinar is planned in UTC).
    ``which`` is "reader", "event" or "utc", for the template to label."""
    lines: list[tuple[str, str]] = []
    if reader_zone and reader_zone != event_zone and is_timezone(reader_zone):
        lines.append(("reader", in_zone(moment, reader_zone)))
    lines.append(("event", in_zone(moment, event_zone)))
    if event_zone != "UTC":
        lines.append(("utc", in_utc(moment)))
    return lines


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
