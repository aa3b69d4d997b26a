"""Independent iCalendar validator for the Webinars test-suite (libical 3 via GObject introspection).

Run with the *system* Python (needs python3-gi and gir1.2-ical-3.0)::

    /usr/bin/python3 libical_check.py < invite.ics

Prints JSON on stdout::

    {"method": str | None,
     "restriction_ok": bool,          # ICalGLib.restriction_check (RFC 5546 tables)
     "errors": [str, ...],            # every X-LIC-ERROR in the tree + parse-level errors
     "events": [{"uid", "dtstart_utc", "start_is_floating", "tzid", "sequence"}]}

Exit status is 0 whenever JSON was produced (errors are data, not failures).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as ICal  # noqa: E402

ANY = ICal.ComponentKind.ANY_COMPONENT


def walk(comp: ICal.Component) -> Iterator[ICal.Component]:
    yield comp
    child = comp.get_first_component(ANY)
    while child is not None:
        yield from walk(child)
        child = comp.get_next_component(ANY)


def properties(comp: ICal.Component, kind: ICal.PropertyKind) -> Iterator[ICal.Property]:
    prop = comp.get_first_property(kind)
    while prop is not None:
        yield prop
        prop = comp.get_next_property(kind)


def lic_errors(root: ICal.Component) -> list[str]:
    errors: list[str] = []
    for comp in walk(root):
        where = ICal.Component.kind_to_string(comp.isa())
        if comp.get_first_property(ICal.PropertyKind.UID_PROPERTY) is not None:
            where += f"[{comp.get_uid()}]"
        found = []
        for prop in properties(comp, ICal.PropertyKind.XLICERROR_PROPERTY):
            param = prop.get_first_parameter(ICal.ParameterKind.XLICERRORTYPE_PARAMETER)
            etype = param.as_ical_string().partition("=")[2] if param else "UNKNOWN"
            found.append(f"{where} {etype}: {prop.get_xlicerror()}")
        # libical 3.0 appends some value-restriction errors (STATUS, DTEND+DURATION)
        # once per table row, i.e. dozens of identical lines: keep one of each.
        errors.extend(dict.fromkeys(found))
    return errors


def utc_iso(t: ICal.Time) -> tuple[str | None, bool | None]:
    """Return (ISO-8601 UTC string, is_floating) for an ICalTime."""
    if t is None or t.is_null_time():
        return None, None
    if t.is_date():
        return f"{t.get_year():04d}-{t.get_month():02d}-{t.get_day():02d}", True
    floating = not t.is_utc() and t.get_timezone() is None
    # Floating times are labelled as UTC unchanged (libical does not shift them).
    u = t if floating else t.convert_to_zone(ICal.Timezone.get_utc_timezone())
    iso = (
        f"{u.get_year():04d}-{u.get_month():02d}-{u.get_day():02d}"
        f"T{u.get_hour():02d}:{u.get_minute():02d}:{u.get_second():02d}Z"
    )
    return iso, floating


def event_summary(ev: ICal.Component) -> dict[str, Any]:
    dtstart_prop = ev.get_first_property(ICal.PropertyKind.DTSTART_PROPERTY)
    seq_prop = ev.get_first_property(ICal.PropertyKind.SEQUENCE_PROPERTY)
    # get_dtstart() resolves TZID against the calendar's VTIMEZONEs first, then
    # against libical's builtin (system tzdata) zones.
    dtstart_utc, floating = utc_iso(ev.get_dtstart()) if dtstart_prop else (None, None)
    return {
        "uid": ev.get_uid(),
        "dtstart_utc": dtstart_utc,
        "start_is_floating": floating,
        "tzid": dtstart_prop.get_parameter_as_string("TZID") if dtstart_prop else None,
        "sequence": seq_prop.get_sequence() if seq_prop else None,
    }


def check(text: str) -> dict[str, Any]:
    result: dict[str, Any] = {"method": None, "restriction_ok": False, "errors": [], "events": []}
    ICal.error_clear_errno()
    try:
        root = ICal.Component.new_from_string(text)
    except TypeError:  # "constructor returned NULL"
        root = None
    errno = ICal.errno_return()
    if errno != ICal.ErrorEnum.NO_ERROR:
        result["errors"].append(f"PARSE: {ICal.error_strerror(errno)}")
    if root is None:
        result["errors"].append("PARSE: libical could not parse the input (truncated or not iCalendar)")
        return result
    if root.isa() != ICal.ComponentKind.VCALENDAR_COMPONENT:
        kind = ICal.Component.kind_to_string(root.isa())
        result["errors"].append(f"PARSE: top-level component is {kind}, expected a single VCALENDAR")
        result["errors"].extend(lic_errors(root))
        return result

    result["restriction_ok"] = bool(ICal.restriction_check(root))
    method_prop = root.get_first_property(ICal.PropertyKind.METHOD_PROPERTY)
    result["method"] = method_prop.get_value_as_string() if method_prop else None
    result["errors"].extend(lic_errors(root))
    if not result["restriction_ok"] and not result["errors"]:
        result["errors"].append("ITIP: restriction_check failed without X-LIC-ERROR detail")
    result["events"] = [
        event_summary(c) for c in walk(root) if c.isa() == ICal.ComponentKind.VEVENT_COMPONENT
    ]
    return result


def main() -> int:
    text = sys.stdin.buffer.read().decode("utf-8")
    json.dump(check(text), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
