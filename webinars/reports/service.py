"""The numbers of a report: sign-ups over time, statuses, attendance, answers to choice questions,
and a series' trend across its numbers.

Each figure is one grouped query (or one narrow column read for the timeline), so a report costs the
same for 30 registrations as for 10,000. Only answers picked from a list are counted: they survive
the purge of personal data, so a report of an old webinar stays true.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import labels
from ..extensions import db
from ..models import (
    CHOICE_KINDS,
    Answer,
    Broadcast,
    Event,
    EventKind,
    EventStatus,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Series,
)
from ..questions.service import REFERRAL_OPTIONS, country_names, lines, options_for
from ..registrations.service import status_counts

# Statuses that hold or wait for a seat: the people who signed up and did not withdraw.
SIGNED_UP = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)
# A chart of choices shows this many; its table (and the CSV) lists every one.
CHART_ROWS = 15


@dataclass
class ChoiceSummary:
    label: str
    kind: str
    rows: list[tuple[str, int]]


@dataclass
class Attendance:
    confirmed: int
    attended: int
    absent: int

    @property
    def unknown(self) -> int:
        return max(self.confirmed - self.attended - self.absent, 0)

    @property
    def rate(self) -> float | None:
        """Attended as a share of the confirmed; None before any attendance is recorded."""
        if not self.confirmed or not (self.attended or self.absent):
            return None
        return self.attended / self.confirmed


@dataclass
class EventReport:
    event: Event
    statuses: dict[RegistrationStatus, int]
    attendance: Attendance
    timeline: list[tuple[date, int]]  # (day, running total of sign-ups)
    daily: list[tuple[date, int, int]]  # (day, sign-ups that day, running total)
    markers: list[tuple[date, str]]
    choices: list[ChoiceSummary] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def attendance_counts(event_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(attended, absent) among the confirmed, per webinar."""
    counts = dict.fromkeys(event_ids, (0, 0))
    if event_ids:
        rows = db.session.execute(
            select(Registration.event_id, Registration.attended, func.count())
            .where(
                Registration.event_id.in_(event_ids),
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.attended.is_not(None),
            )
            .group_by(Registration.event_id, Registration.attended)
        )
        for event_id, attended, count in rows:
            came, missed = counts[event_id]
            counts[event_id] = (came + count, missed) if attended else (came, missed + count)
    return counts


def _timeline(event: Event) -> tuple[list[tuple[date, int, int]], list[tuple[date, int]]]:
    """Sign-ups per day in the webinar's time zone, and their running total (days without any
    sign-up included, so the line does not jump)."""
    zone = ZoneInfo(event.timezone)
    moments = db.session.scalars(
        select(Registration.created_at)
        .where(Registration.event_id == event.id)
        .order_by(Registration.created_at)
    )
    per_day = Counter(moment.astimezone(zone).date() for moment in moments)
    if not per_day:
        return [], []
    daily: list[tuple[date, int, int]] = []
    running: list[tuple[date, int]] = []
    total = 0
    day, last = min(per_day), max(per_day)
    while day <= last:
        total += per_day.get(day, 0)
        daily.append((day, per_day.get(day, 0), total))
        running.append((day, total))
        day += timedelta(days=1)
    return daily, running


def _markers(event: Event) -> list[tuple[date, str]]:
    """The announcement (publication and each message to attendees) and the reminders' days."""
    zone = ZoneInfo(event.timezone)
    markers: list[tuple[date, str]] = []
    if event.published_at is not None:
        markers.append((event.published_at.astimezone(zone).date(), _("Announced")))
    sent = db.session.scalars(
        select(Broadcast.created_at).where(Broadcast.event_id == event.id).order_by(Broadcast.created_at)
    )
    markers.extend((moment.astimezone(zone).date(), _("Message to attendees")) for moment in sent)
    for minutes in event.reminder_minutes:
        reminder_day = (event.starts_at - timedelta(minutes=minutes)).astimezone(zone).date()
        markers.append((reminder_day, _("Reminder")))
    markers.append((event.starts_at.astimezone(zone).date(), _("Webinar")))
    return sorted(markers)


def _choice_text(kind: str, value: str, names: Mapping[str, str], locale: str) -> str:
    if kind == QuestionKind.COUNTRY:
        return names.get(value, value)
    if kind == QuestionKind.CHECKBOX:
        return str(_("Yes") if value else _("No"))
    if kind == QuestionKind.REFERRAL and value in REFERRAL_OPTIONS:
        return str(REFERRAL_OPTIONS[value])
    return value


def _count_choices(
    answers: list[tuple[str, str, str]], order: dict[str, list[str]], locale: str
) -> list[ChoiceSummary]:
    """(question label, kind, stored value) rows -> per question, each choice with its count, the
    most frequent first (choices nobody picked listed too, when the question's choices are known)."""
    names = country_names(locale)
    counted: dict[tuple[str, str], Counter[str]] = {}
    for label, kind, value in answers:
        counter = counted.setdefault((label, kind), Counter())
        for choice in lines(value) if kind == QuestionKind.MULTIPLE_CHOICE else [value]:
            counter[choice] += 1
    summaries = []
    for (label, kind), counter in counted.items():
        for choice in order.get(label, []):
            counter.setdefault(choice, 0)
        rows = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        summaries.append(
            ChoiceSummary(
                label=label,
                kind=kind,
                rows=[(_choice_text(kind, value, names, locale), count) for value, count in rows],
            )
        )
    return summaries


def _choice_answers(event_ids: list[int]) -> list[tuple[str, str, str]]:
    """Answers picked from a list by people who signed up and did not withdraw."""
    if not event_ids:
        return []
    return [
        (label, kind, value)
        for label, kind, value in db.session.execute(
            select(Answer.question_label, Answer.kind, Answer.value)
            .join(Registration, Registration.id == Answer.registration_id)
            .where(
                Registration.event_id.in_(event_ids),
                Registration.status.in_(SIGNED_UP),
                Answer.kind.in_(sorted(CHOICE_KINDS)),
            )
            .order_by(Answer.question_id, Answer.id)
        )
    ]


def _known_choices(questions: list[Question], locale: str) -> dict[str, list[str]]:
    return {
        question.label: [value for value, _shown in options_for(question, locale)]
        for question in questions
        if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
    }


def event_report(event: Event, locale: str) -> EventReport:
    statuses = status_counts([event.id])[event.id]
    attended, absent = attendance_counts([event.id])[event.id]
    daily, running = _timeline(event)
    return EventReport(
        event=event,
        statuses=statuses,
        attendance=Attendance(
            confirmed=statuses.get(RegistrationStatus.CONFIRMED, 0), attended=attended, absent=absent
        ),
        timeline=running,
        daily=daily,
        markers=_markers(event),
        choices=_count_choices(_choice_answers([event.id]), _known_choices(event.questions, locale), locale),
    )


@dataclass
class SeriesRow:
    event: Event
    label: str  # "#16" (or the date for a webinar without a number)
    registered: int
    confirmed: int
    attended: int | None
    rate: float | None


@dataclass
class SeriesReport:
    series: Series
    rows: list[SeriesRow]
    choices: list[ChoiceSummary]


def series_report(series: Series, locale: str) -> SeriesReport:
    """One row per webinar of the series, by number (then date): what was registered here, or for an
    archive entry what the organizer reported; and the choice answers of all of them together."""
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.series_id == series.id, Event.status != EventStatus.DRAFT)
            .order_by(Event.number.is_(None), Event.number, Event.starts_at)
        )
    )
    ids = [event.id for event in events]
    statuses = status_counts(ids)
    attendance = attendance_counts(ids)
    rows = []
    for event in events:
        label = f"#{event.number}" if event.number else event.starts_at.date().isoformat()
        if event.kind == EventKind.ARCHIVE:
            registered = event.registrations_reported or 0
            came = event.attendance_reported
            rate = came / registered if came is not None and registered else None
            rows.append(SeriesRow(event, label, registered, registered, came, rate))
            continue
        counts = statuses[event.id]
        confirmed = counts.get(RegistrationStatus.CONFIRMED, 0)
        attended, absent = attendance[event.id]
        registered = sum(counts.get(status, 0) for status in SIGNED_UP)
        figures = Attendance(confirmed=confirmed, attended=attended, absent=absent)
        rows.append(
            SeriesRow(
                event,
                label,
                registered,
                confirmed,
                attended if figures.rate is not None else None,
                figures.rate,
            )
        )
    questions = [question for event in events for question in event.questions]
    return SeriesReport(
        series=series,
        rows=rows,
        choices=_count_choices(_choice_answers(ids), _known_choices(questions, locale), locale),
    )


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.0f}%"


def _csv(rows: list[list[object]]) -> str:
    from ..registrations.export import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(value if isinstance(value, int) else csv_cell(value) for value in row)
    return "\ufeff" + buffer.getvalue()


def event_csv(report: EventReport) -> str:
    """The report's numbers as rows of (section, item, value), ready for a spreadsheet."""
    from ..models import RegistrationStatus as Status

    rows: list[list[object]] = [[_("Section"), _("Item"), _("Value")]]
    for day, count, _total in report.daily:
        rows.append([_("Registrations per day"), day.isoformat(), count])
    for day, label in report.markers:
        rows.append([_("Dates marked"), day.isoformat(), label])
    for status in Status:
        rows.append([_("Registrations by status"), labels.label(status), report.statuses.get(status, 0)])
    attendance = report.attendance
    rows.append([_("Attendance"), _("Confirmed"), attendance.confirmed])
    rows.append([_("Attendance"), _("Attended"), attendance.attended])
    rows.append([_("Attendance"), _("Absent"), attendance.absent])
    rows.append([_("Attendance"), _("Not recorded"), attendance.unknown])
    rows.append([_("Attendance"), _("Attendance rate"), percent(attendance.rate)])
    for summary in report.choices:
        rows.extend([summary.label, text, count] for text, count in summary.rows)
    return _csv(rows)


def series_csv(report: SeriesReport) -> str:
    rows: list[list[object]] = [
        [_("Number"), _("Webinar"), _("Registered"), _("Confirmed"), _("Attended"), _("Attendance rate")]
    ]
    for row in report.rows:
        rows.append(
            [
                row.label,
                row.event.title,
                row.registered,
                row.confirmed,
                "" if row.attended is None else row.attended,
                percent(row.rate),
            ]
        )
    for summary in report.choices:
        rows.append([])
        rows.append([summary.label, "", _("Value")])
        rows.extend([text, "", count] for text, count in summary.rows)
    return _csv(rows)
