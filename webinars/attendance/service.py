"""Attendance from an imported participant report: match people, sum minutes, mark attended/absent.

Each import replaces the earlier import from the same tool (a corrected report uploaded again must
not count twice), and keeps those of other tools (a webinar run on Zoom with a Teams overflow room).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, select

from .. import audit
from ..database import writing
from ..extensions import db
from ..models import AuditAction, Event, ParticipantRecord, Registration, RegistrationStatus
from ..text import single_line
from .parsers import Report, name_key

# People who may have attended: those who held a seat.
_ATTENDING = (RegistrationStatus.CONFIRMED,)


@dataclass(frozen=True)
class ImportResult:
    participants: int
    matched: int
    unmatched: int
    attended: int
    absent: int


def _registrations(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration).where(Registration.event_id == event.id, Registration.erased_at.is_(None))
        )
    )


def _match(records: list[ParticipantRecord], registrations: list[Registration]) -> None:
    """Email first; then a name that belongs to exactly one registration."""
    by_email = {registration.email.casefold(): registration for registration in registrations}
    by_name: dict[str, list[Registration]] = defaultdict(list)
    for registration in registrations:
        by_name[name_key(registration.name)].append(registration)
    for record in records:
        found = by_email.get(record.email.casefold()) if record.email else None
        if found is None:
            candidates = by_name.get(name_key(record.name), [])
            found = candidates[0] if len(candidates) == 1 else None
        record.registration_id = found.id if found else None


def import_report(event: Event, report: Report, minimum_minutes: int) -> ImportResult:
    """Store the report's participants, match them and mark attendance. Commits."""
    with writing():
        db.session.execute(
            delete(ParticipantRecord).where(
                ParticipantRecord.event_id == event.id, ParticipantRecord.source == report.source
            )
        )
        records = [
            ParticipantRecord(
                event_id=event.id,
                source=report.source,
                name=single_line(participant.name)[:200],
                email=single_line(participant.email)[:254],
                minutes=participant.minutes,
            )
            for participant in report.participants
        ]
        _match(records, _registrations(event))
        db.session.add_all(records)
        event.attendance_minimum_minutes = minimum_minutes
        db.session.flush()
        result = _mark(event)
        audit.record(event, AuditAction.ATTENDANCE_IMPORTED, f"{report.source}: {len(records)}")
        db.session.commit()
    matched = sum(1 for record in records if record.registration_id is not None)
    return ImportResult(
        participants=len(records),
        matched=matched,
        unmatched=len(records) - matched,
        attended=result[0],
        absent=result[1],
    )


def _mark(event: Event) -> tuple[int, int]:
    """Minutes and attended/absent for everyone who held a seat, from all imported records."""
    minutes: dict[int, int] = defaultdict(int)
    for registration_id, record_minutes in db.session.execute(
        select(ParticipantRecord.registration_id, ParticipantRecord.minutes).where(
            ParticipantRecord.event_id == event.id, ParticipantRecord.registration_id.is_not(None)
        )
    ):
        if registration_id is not None:  # the query asks for matched records only
            minutes[registration_id] += record_minutes
    attended = absent = 0
    for registration in _registrations(event):
        seen = registration.id in minutes or registration.attended_minutes is not None
        if registration.status not in _ATTENDING and not seen:
            continue
        registration.attended_minutes = minutes.get(registration.id, 0)
        registration.attended = registration.attended_minutes >= event.attendance_minimum_minutes
        if registration.attended:
            attended += 1
        else:
            absent += 1
    return attended, absent


def records(event: Event, *, unmatched_only: bool = False) -> list[ParticipantRecord]:
    query = select(ParticipantRecord).where(ParticipantRecord.event_id == event.id)
    if unmatched_only:
        query = query.where(ParticipantRecord.registration_id.is_(None))
    return list(db.session.scalars(query.order_by(ParticipantRecord.name, ParticipantRecord.id)))


def assign(event: Event, record: ParticipantRecord, registration: Registration | None) -> None:
    """The organizer's fix: this participant is that registration (or nobody). Commits."""
    with writing():
        record.registration_id = registration.id if registration else None
        db.session.flush()
        _mark(event)
        db.session.commit()


def set_minimum(event: Event, minimum_minutes: int) -> None:
    with writing():
        event.attendance_minimum_minutes = minimum_minutes
        db.session.flush()
        _mark(event)
        db.session.commit()


def candidates(event: Event) -> list[Registration]:
    """The people an imported participant may be matched to: seated or cancelled, not erased."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.erased_at.is_(None),
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED)),
            )
            .order_by(Registration.name, Registration.id)
        )
    )
