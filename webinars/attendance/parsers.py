"""Read the participant reports that Zoom, Microsoft Teams and Google Meet export.

The three differ in every way that matters here, so the reader looks for the table rather than
trusting a fixed layout:

* Zoom (Reports > Usage > Participants) writes UTF-8 CSV. With "Export with meeting data" a meeting
  block ("Meeting ID,Topic,...") and a blank line come first; one row per join, so someone who
  rejoined has several rows ("Duration (Minutes)" each). Webinar reports add "Host Details",
  "Panelist Details" and "Attendee Details" sections with "Time in Session (minutes)".
* Teams (Attendance report) writes UTF-16 with a byte-order mark, tab-separated, in sections:
  "1. Summary", "2. Participants" (one row per person, "In-Meeting Duration" like "1h 2m 3s"),
  "3. In-Meeting Activities" (one row per join, which repeats section 2 in detail). Older reports
  have "Full Name / User Action / Timestamp" rows with Joined and Left events.
* Google Meet (attendance tracking) writes a sheet exported as CSV: "First name, Last name, Email,
  Duration, Time joined, Time exited", with durations like "1 hr 5 min".

Every table that has a name and a duration column is read; rows of the same person (by email, else
by name) are summed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from dateutil import parser as date_parser


class ReportError(ValueError):
    """The upload is not a participant report we can read; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Participant:
    name: str
    email: str
    seconds: int = 0
    rows: int = 0
    names: set[str] = field(default_factory=set)

    @property
    def minutes(self) -> int:
        return self.seconds // 60


@dataclass
class Report:
    source: str  # zoom, teams, meet, or report when the layout is not recognised by its headings
    participants: list[Participant]


MAX_ROWS = 100_000

_NAME_HEADERS = (
    "name (original name)",
    "user name (original name)",
    "name",
    "full name",
    "display name",
    "participant name",
    "attendee name",
    "user name",
    "participant",
)
_EMAIL_HEADERS = (
    "user email",
    "email",
    "e-mail",
    "email address",
    "attendee email",
    "participant email",
    "participant id (upn)",
)
_MINUTE_HEADERS = (
    "duration (minutes)",
    "time in session (minutes)",
    "total duration (minutes)",
    "duration (mins)",
    "minutes",
)
_TEXT_DURATION_HEADERS = (
    "in-meeting duration",
    "duration",
    "attendance duration",
    "total duration",
    "time in meeting",
    "time in call",
)


def decode(data: bytes) -> str:
    """Text from the bytes of an upload: UTF-16 (as Teams writes it) or UTF-8, with or without BOM."""
    if not data.strip():
        raise ReportError("empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        encoding = "utf-16-le"  # UTF-16 without a byte-order mark: every other byte of ASCII is zero
    elif len(data) >= 4 and data[0:4:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00":
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    if encoding.startswith("utf-8") and b"\x00" in data[:65536]:
        raise ReportError("binary")  # images, PDFs, spreadsheets: text never holds NUL bytes
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportError("encoding") from error
    if "\x00" in text or re.search(r"[\x01-\x08\x0e-\x1f]", text):
        raise ReportError("binary")
    return text


def _delimiter(text: str) -> str:
    head = text[:4096]
    return "\t" if head.count("\t") > head.count(",") else ","


def _clean(value: str) -> str:
    return " ".join(value.replace("\ufeff", "").split())


def _header_index(cells: list[str], candidates: tuple[str, ...]) -> int | None:
    lowered = [cell.casefold() for cell in cells]
    for candidate in candidates:
        if candidate in lowered:
            return lowered.index(candidate)
    return None


_UNIT_SECONDS = {"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "m": 60, "min": 60}
_UNIT_SECONDS |= {"mins": 60, "minute": 60, "minutes": 60, "s": 1, "sec": 1, "secs": 1}
_UNIT_SECONDS |= {"second": 1, "seconds": 1}


def duration_seconds(value: str, *, minutes: bool = False) -> int:
    """Seconds from "42", "1h 2m 3s", "1 hr 5 min", "01:02:03" or "45:10". ``minutes``: a bare
    number counts minutes (Zoom); "--" and empty cells count nothing."""
    value = value.strip().casefold()
    if not value or value in ("--", "-"):
        return 0
    if re.fullmatch(r"\d+(\.\d+)?", value):
        number = float(value)
        return round(number * 60) if minutes else round(number)
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", value):
        parts = [int(part) for part in value.split(":")]
        while len(parts) < 3:
            parts.insert(0, 0)
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    total = 0
    found = False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", value):
        if unit in _UNIT_SECONDS:
            total += round(float(number) * _UNIT_SECONDS[unit])
            found = True
    if not found:
        raise ReportError("duration")
    return total


def _key(name: str, email: str) -> str:
    return email.casefold() if email else "name:" + name_key(name)


def name_key(name: str) -> str:
    """Names compared without case, accents or extra spaces; Zoom's "(original name)" suffix dropped."""
    name = re.sub(r"\s*\(.*\)\s*$", "", name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_name.casefold().split())


def _source(rows: list[list[str]]) -> str:
    text = " ".join(" ".join(row) for row in rows[:60]).casefold()
    if "name (original name)" in text or "time in session" in text or "meeting id" in text:
        return "zoom"
    if "in-meeting duration" in text or "participant id (upn)" in text or "user action" in text:
        return "teams"
    if "time joined" in text or "time exited" in text:
        return "meet"
    return "report"


def parse(data: bytes) -> Report:
    text = decode(data)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error as error:
        raise ReportError("layout") from error
    if len(rows) > MAX_ROWS:
        raise ReportError("too_many_rows")
    rows = [[_clean(cell) for cell in row] for row in rows]
    people: dict[str, Participant] = {}
    if not (_read_tables(rows, people) or _read_join_events(rows, people)):
        raise ReportError("layout")
    return Report(source=_source(rows), participants=list(people.values()))


def _add(people: dict[str, Participant], name: str, email: str, seconds: int) -> None:
    if not name and not email:
        return
    if email and "@" not in email:
        email = ""
    person = people.setdefault(_key(name, email), Participant(name=name, email=email))
    person.seconds += seconds
    person.rows += 1
    if name:
        person.names.add(name)
        person.name = person.name or name


def _read_tables(rows: list[list[str]], people: dict[str, Participant]) -> bool:
    """Every table with a name and a duration column. Teams repeats its per-person totals as one
    row per join in a later section: once a totals table was read, tables of joins are skipped."""
    found = False
    read_totals = False
    index = 0
    while index < len(rows):
        header = rows[index]
        columns = _columns(header)
        index += 1
        if columns is None:
            continue
        name_at, first_at, last_at, email_at, duration_at, in_minutes, totals = columns
        if read_totals and not totals:
            while index < len(rows) and any(rows[index]):
                index += 1
            continue
        found = True
        read_totals = read_totals or totals
        while index < len(rows) and any(rows[index]):
            row = rows[index]
            index += 1
            if _columns(row) is not None:  # a new section's header right after the last row
                index -= 1
                break
            name = _cell(row, name_at) or " ".join(
                part for part in (_cell(row, first_at), _cell(row, last_at)) if part
            )
            seconds = duration_seconds(_cell(row, duration_at), minutes=in_minutes)
            _add(people, name, _cell(row, email_at), seconds)
    return found


def _cell(row: list[str], at: int | None) -> str:
    return row[at] if at is not None and at < len(row) else ""


def _columns(cells: list[str]):  # type: ignore[no-untyped-def]
    if len(cells) < 2:
        return None
    name_at = _header_index(cells, _NAME_HEADERS)
    first_at = _header_index(cells, ("first name",))
    last_at = _header_index(cells, ("last name", "surname"))
    if name_at is None and first_at is None:
        return None
    duration_at = _header_index(cells, _MINUTE_HEADERS)
    in_minutes = duration_at is not None
    if duration_at is None:
        duration_at = _header_index(cells, _TEXT_DURATION_HEADERS)
    if duration_at is None:
        return None
    email_at = _header_index(cells, _EMAIL_HEADERS)
    totals = cells[duration_at].casefold() == "in-meeting duration"
    return name_at, first_at, last_at, email_at, duration_at, in_minutes, totals


def _read_join_events(rows: list[list[str]], people: dict[str, Participant]) -> bool:
    """The older Teams layout: "Full Name, User Action, Timestamp", a row per join and per leave."""
    start = name_at = action_at = stamp_at = None
    for position, header in enumerate(rows):
        name_at = _header_index(header, ("full name", "name"))
        action_at = _header_index(header, ("user action", "action"))
        stamp_at = _header_index(header, ("timestamp",))
        if name_at is not None and action_at is not None and stamp_at is not None:
            start = position
            break
    if start is None or name_at is None or action_at is None or stamp_at is None:
        return False
    joined: dict[str, datetime] = {}
    last_seen: datetime | None = None
    for row in rows[start + 1 :]:
        if len(row) <= max(name_at, action_at, stamp_at) or not row[name_at]:
            continue
        name, action = row[name_at], row[action_at].casefold()
        try:
            moment = date_parser.parse(row[stamp_at])
        except (ValueError, OverflowError) as error:
            raise ReportError("layout") from error
        last_seen = max(last_seen, moment) if last_seen else moment
        if action.startswith("joined"):
            joined.setdefault(name, moment)
        elif action.startswith("left") and name in joined:
            _add(people, name, "", int((moment - joined.pop(name)).total_seconds()))
    for name, moment in joined.items():  # still in the meeting when the report was taken
        _add(people, name, "", int(((last_seen or moment) - moment).total_seconds()))
    return True
