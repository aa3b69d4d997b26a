"""Cross-check generated iCalendar data with five independent parsers.

* ``icalendar`` (the library the app itself uses),
* ical.js 2.x under Node (``tests/calendar_check/icaljs_parse.mjs``),
* libical 3 via GObject introspection, run with the system Python
  (``tests/calendar_check/libical_check.py``; override the interpreter with
  ``LIBICAL_PYTHON``),
* ``vobject`` (Python; the parser of several CalDAV servers and clients),
* node-ical under Node (``tests/calendar_check/nodeical_parse.mjs``).

A missing tool skips the calling test, except when ``CI=true`` where it fails.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TypedDict

from icalendar import Calendar

from tests.helpers import missing

CHECK_DIR = Path(__file__).resolve().parent / "calendar_check"
ICALJS_SCRIPT = CHECK_DIR / "icaljs_parse.mjs"
NODEICAL_SCRIPT = CHECK_DIR / "nodeical_parse.mjs"
NODE_PACKAGES = ("ical.js", "node-ical")
LIBICAL_SCRIPT = CHECK_DIR / "libical_check.py"
DEFAULT_LIBICAL_PYTHON = "/usr/bin/python3"
TIMEOUT = 120


class CalendarParseError(AssertionError):
    """An independent parser rejected the calendar outright."""


class CalendarCheck(TypedDict):
    icalendar: Calendar
    icaljs: dict[str, Any]
    libical: dict[str, Any]
    vobject: dict[str, Any]
    nodeical: dict[str, Any]
    starts: list[tuple[str | None, str | None]]  # (uid, UTC ISO start) in document order


def _missing(reason: str) -> NoReturn:
    missing(f"calendar parser harness unavailable: {reason}")


def _as_bytes(ics: bytes | str) -> bytes:
    return ics.encode("utf-8") if isinstance(ics, str) else ics


def _run(cmd: list[str], ics: bytes, name: str) -> dict[str, Any]:
    proc = subprocess.run(
        cmd,
        input=ics,
        capture_output=True,
        cwd=CHECK_DIR,
        env={**os.environ, "TZ": "UTC"},
        timeout=TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise CalendarParseError(
            f"{name} failed (exit {proc.returncode}):\n{proc.stderr.decode(errors='replace')}"
        )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _locked_version(package: str) -> str | None:
    lock = json.loads((CHECK_DIR / "package-lock.json").read_text())
    version: str | None = lock["packages"].get(f"node_modules/{package}", {}).get("version")
    return version


def _installed_version(package: str) -> str | None:
    manifest = CHECK_DIR / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    version: str | None = json.loads(manifest.read_text()).get("version")
    return version


@functools.cache
def _node() -> str:
    node = shutil.which("node")
    if node is None:
        _missing("`node` is not on PATH (needed for ical.js)")

    def installed() -> bool:
        return all(_installed_version(p) == _locked_version(p) for p in NODE_PACKAGES)

    if installed():
        return node
    npm = shutil.which("npm")
    if npm is None:
        _missing("`npm` is not on PATH (needed to install ical.js)")
    with open(CHECK_DIR / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel workers: one installs, the rest wait
        if not installed():
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=CHECK_DIR,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0:
                _missing(f"`npm ci` in {CHECK_DIR} failed:\n{proc.stdout}\n{proc.stderr}")
    return node


@functools.cache
def _libical_python() -> str:
    python = os.environ.get("LIBICAL_PYTHON", DEFAULT_LIBICAL_PYTHON)
    if shutil.which(python) is None:
        _missing(f"{python} not found (set LIBICAL_PYTHON to a Python with python3-gi)")
    probe = "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"
    proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        _missing(
            f"{python} cannot load ICalGLib 3.0 (apt-get install python3-gi gir1.2-ical-3.0):\n{proc.stderr}"
        )
    return python


def icaljs_parse(ics: bytes | str) -> dict[str, Any]:
    """Parse with ical.js; see icaljs_parse.mjs for the returned shape."""
    return _run([_node(), str(ICALJS_SCRIPT)], _as_bytes(ics), "ical.js")


def nodeical_parse(ics: bytes | str) -> dict[str, Any]:
    """Parse with node-ical; see nodeical_parse.mjs for the returned shape."""
    return _run([_node(), str(NODEICAL_SCRIPT)], _as_bytes(ics), "node-ical")


def vobject_parse(ics: bytes | str) -> dict[str, Any]:
    """Parse with vobject, in the same shape as nodeical_parse."""
    try:
        import vobject
    except ImportError:
        _missing("vobject is not installed (pip install -e .[dev])")
    try:
        calendar = vobject.readOne(_as_bytes(ics).decode("utf-8"), validate=True)
    except Exception as error:  # vobject raises many types; any of them is a rejection
        raise CalendarParseError(f"vobject failed: {type(error).__name__}: {error}") from error
    events = []
    for vevent in calendar.contents.get("vevent", []):
        start = vevent.dtstart.value
        attendees = [
            {
                "address": line.value.removeprefix("mailto:").removeprefix("MAILTO:"),
                "cn": line.params.get("CN", [None])[0],
                "partstat": line.params.get("PARTSTAT", [None])[0],
                "rsvp": (line.params.get("RSVP", [None])[0] or "").upper() or None,
            }
            for line in vevent.contents.get("attendee", [])
        ]
        events.append(
            {
                "uid": vevent.uid.value,
                "summary": vevent.summary.value if hasattr(vevent, "summary") else None,
                "dtstart_utc": _utc_iso(start),
                "attendees": attendees,
            }
        )
    method = calendar.method.value if hasattr(calendar, "method") else None
    return {"method": method, "events": events}


def libical_check(ics: bytes | str) -> dict[str, Any]:
    """Parse and RFC 5546-check with libical; see libical_check.py for the returned shape."""
    return _run([_libical_python(), str(LIBICAL_SCRIPT)], _as_bytes(ics), "libical")


def _utc_iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        raise AssertionError(f"icalendar: DTSTART {value.isoformat()} is floating (no TZID / Z)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_calendar_valid(ics: bytes | str) -> CalendarCheck:
    """Assert the calendar is valid for libical and that all three parsers agree.

    Checks: libical reports no X-LIC-ERROR and passes restriction_check (RFC 5546
    tables for the calendar's METHOD); every TZID has a VTIMEZONE; no DTSTART is
    floating in ical.js; icalendar, ical.js and libical give the same UTC instant
    for each event's DTSTART.
    """
    data = _as_bytes(ics)
    cal = Calendar.from_ical(data)
    icaljs = icaljs_parse(data)
    libical = libical_check(data)

    errors = "\n  ".join(libical["errors"])
    assert not libical["errors"], f"libical reported errors:\n  {errors}"
    assert libical["restriction_ok"], "libical restriction_check failed"
    missing = cal.get_missing_tzids()
    assert not missing, f"TZIDs without a VTIMEZONE: {sorted(missing)}"

    floating = [e["uid"] for e in icaljs["events"] if e["start_is_floating"]]
    assert not floating, f"ical.js sees a floating DTSTART (unknown TZID?) in events {floating}"

    py = [(str(e.get("UID")), _utc_iso(e.decoded("DTSTART", None))) for e in cal.walk("VEVENT")]
    js = [(e["uid"], e["dtstart_utc"]) for e in icaljs["events"]]
    lic = [(e["uid"], e["dtstart_utc"]) for e in libical["events"]]
    vob = vobject_parse(data)
    node = nodeical_parse(data)
    vo = [(e["uid"], e["dtstart_utc"]) for e in vob["events"]]
    ni = [(e["uid"], e["dtstart_utc"]) for e in node["events"]]
    assert py == js == lic == vo == ni, (
        f"DTSTART (UTC) disagree:\n  icalendar {py}\n  ical.js   {js}\n  libical   {lic}"
        f"\n  vobject   {vo}\n  node-ical {ni}"
    )
    return {
        "icalendar": cal,
        "icaljs": icaljs,
        "libical": libical,
        "vobject": vob,
        "nodeical": node,
        "starts": py,
    }
