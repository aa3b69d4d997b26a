"""Webinar rules: create, change, publish, cancel. Shared by the views, the CLI and any API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit, clock, languages
from ..database import get_by_id, unique_slug, writing
from ..extensions import db
from ..images import service as images
from ..images.service import ImageChange
from ..massmail import service as massmail
from ..models import (
    DEFAULT_REMINDER_OFFSETS,
    Audience,
    AuditAction,
    Broadcast,
    Event,
    EventKind,
    EventStatus,
    MailKind,
    Registration,
    RegistrationStatus,
    Series,
    Speaker,
    Tag,
    User,
    WebhookEventType,
)
from ..permissions import Capability, events_visible_to
from ..questions import service as questions
from ..registrations.service import fill_from_waitlist
from ..rules import RuleError
from ..text import slugify
from ..urls import site_host
from ..validators import date_errors, text_errors
from ..webhooks import service as webhooks
from .queries import next_number

# A change to any of these moves the calendar entry: attendees get an updated invitation.
SIGNIFICANT_FIELDS = ("title", "starts_at", "duration_minutes", "join_url")


@dataclass
class EventData:
    title: str
    starts_at: datetime
    timezone: str
    duration_minutes: int = 60
    summary: str = ""
    description_md: str = ""
    join_url: str = ""
    capacity: int | None = None
    registration_deadline: datetime | None = None
    speakers: list[tuple[str, str]] = field(default_factory=list)
    reminder_offsets: str = DEFAULT_REMINDER_OFFSETS
    series_id: int | None = None
    number: int | None = None
    tags: list[str] = field(default_factory=list)
    embed_origins: list[str] = field(default_factory=list)
    approval_required: bool = False
    # The language the webinar is held in; empty keeps the webinar's, or for a new one takes its
    # series' language, else the organizer's.
    language: str = ""
    # None, and an empty mapping, leave the pictures as they are.
    cover: ImageChange | None = None
    # Keyed by the speaker's index in ``speakers``.
    speaker_photos: dict[int, ImageChange] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Event) -> EventData:
        """The webinar as it stands, for changing a few fields and passing it to update_event()."""
        return cls(
            title=event.title,
            starts_at=event.starts_at,
            timezone=event.timezone,
            duration_minutes=event.duration_minutes,
            summary=event.summary,
            description_md=event.description_md,
            join_url=event.join_url,
            capacity=event.capacity,
            registration_deadline=event.registration_deadline,
            speakers=[(speaker.name, speaker.affiliation) for speaker in event.speakers],
            reminder_offsets=event.reminder_offsets,
            series_id=event.series_id,
            number=event.number,
            tags=[tag.name for tag in event.tags],
            embed_origins=event.embed_origin_list,
            approval_required=event.approval_required,
            language=event.language,
        )


def _check(data: EventData, event: Event | None) -> None:
    errors = text_errors(
        one_line={
            "title": data.title,
            "join_url": data.join_url,
            "timezone": data.timezone,
            "reminders": data.reminder_offsets,
            "tags": ",".join(data.tags),
            "speakers": "".join(name + (affiliation or "") for name, affiliation in data.speakers),
        },
        multiline={"summary": data.summary, "description": data.description_md},
    )
    errors.update(date_errors({"start_date": data.starts_at, "deadline_date": data.registration_deadline}))
    errors.update(languages.language_errors(data.language))
    if errors:  # the checks below compute with these values
        raise RuleError(errors)
    now = clock.now()
    moved = event is None or data.starts_at != event.starts_at
    archived = event is not None and event.is_archive_entry
    if moved and not archived and data.starts_at <= now:
        errors["start_date"] = str(_l("The start must be in the future."))
    if data.registration_deadline and data.registration_deadline > data.starts_at + timedelta(
        minutes=data.duration_minutes
    ):
        errors["deadline_date"] = str(_l("Registration must close before the webinar ends."))
    if event is not None and data.capacity is not None:
        confirmed = confirmed_count(event)
        if data.capacity < confirmed:
            errors["capacity"] = str(
                _l("%(count)s people are already confirmed: the capacity cannot be lower.", count=confirmed)
            )
    if errors:
        raise RuleError(errors)


def confirmed_count(event: Event) -> int:
    return (
        db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
            )
        )
        or 0
    )


def _speakers(event: Event, data: EventData) -> list[Speaker]:
    """The speaker rows, rebuilt in order; a speaker listed before keeps their photo by name."""
    before = {speaker.name: speaker for speaker in event.speakers}
    speakers = []
    for i, (name, affiliation) in enumerate(data.speakers):
        if not (name and name.strip()):
            continue
        speaker = Speaker(name=name.strip(), affiliation=(affiliation or "").strip(), position=i)
        if (previous := before.get(speaker.name)) is not None:
            speaker.photo, speaker.photo_alt = previous.photo, previous.photo_alt
        images.apply(speaker, "photo", data.speaker_photos.get(i))
        speakers.append(speaker)
    return speakers


def apply_changes(event: Event, data: EventData) -> None:
    event.title = data.title.strip()
    event.summary = data.summary.strip()
    event.description_md = data.description_md
    event.starts_at = data.starts_at
    event.duration_minutes = data.duration_minutes
    event.timezone = data.timezone
    event.join_url = data.join_url.strip()
    event.capacity = data.capacity
    event.registration_deadline = data.registration_deadline
    event.speakers = _speakers(event, data)
    images.apply(event, "cover", data.cover)
    event.reminder_offsets = data.reminder_offsets
    if data.series_id is None:
        event.number = None
    elif data.number is not None:
        event.number = data.number
    elif event.series_id != data.series_id or event.number is None:
        event.number = next_number(data.series_id)
    event.series_id = data.series_id
    event.tags = tags_named(data.tags)
    event.embed_origins = "\n".join(data.embed_origins)
    event.approval_required = data.approval_required
    event.language = data.language or event.language or content_language_for(data.series_id)


def content_language_for(series_id: int | None) -> str:
    """A new webinar's language when nobody chose one: its series', else the organizer's."""
    # A series id straight from a form: one no table can hold finds nothing instead of failing.
    series = get_by_id(Series, series_id) if series_id else None
    return series.language if series is not None else languages.default_content_language()


def new_event(owner: User, title: str, starts_at: datetime, kind: EventKind = EventKind.WEBINAR) -> Event:
    """An empty webinar with its identity: a unique address and a calendar UID that never changes."""
    return Event(
        owner=owner,
        kind=kind,
        slug=unique_slug(Event, f"{slugify(title, 70)}-{starts_at:%Y-%m-%d}"),
        ical_uid=f"webinar-{uuid.uuid4()}@{site_host()}",
        status=EventStatus.DRAFT,
        seats_taken=0,
        sequence=0,
    )


def tags_named(names: list[str]) -> list[Tag]:
    """The tags with these names, created where missing (matched by slug, so case does not matter)."""
    wanted: dict[str, str] = {}
    for name in names:
        name = " ".join(name.split())
        if name and slugify(name) not in wanted:
            wanted[slugify(name)] = name[:80]
    if not wanted:
        return []
    existing = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(wanted)))}
    return [existing.get(slug) or Tag(slug=slug, name=name) for slug, name in wanted.items()]


def create_event(owner: User, data: EventData, *, copied_from: Event | None = None) -> Event:
    """A new draft webinar. Commits.

    Its registration questions come from ``copied_from`` (a webinar being duplicated), else from the
    series' previous webinar, so a programme asks the same things every time unless it changes them.
    """
    with writing():
        _check(data, None)
        event = new_event(owner, data.title, data.starts_at)
        apply_changes(event, data)
        db.session.add(event)
        db.session.flush()
        source = copied_from or questions.previous_in_series(event)
        if source is not None:
            questions.copy_questions(source, event)
        audit.record(event, AuditAction.CREATED, event.title, actor=owner)
        db.session.commit()
    return event


def duplicate_data(source: Event) -> EventData:
    """What "make #17 from #16" starts from: everything but the time, the registrations and the
    recording. The caller (the form) supplies the new start; the series proposes the next number."""
    return EventData(
        title=source.title,
        starts_at=source.starts_at,
        timezone=source.timezone,
        duration_minutes=source.duration_minutes,
        summary=source.summary,
        description_md=source.description_md,
        join_url=source.join_url,
        capacity=source.capacity,
        speakers=[(speaker.name, speaker.affiliation) for speaker in source.speakers],
        reminder_offsets=source.reminder_offsets,
        series_id=source.series_id,
        number=next_number(source.series_id) if source.series_id else None,
        tags=[tag.name for tag in source.tags],
        embed_origins=source.embed_origin_list,
        approval_required=source.approval_required,
        language=source.language,
    )


def update_event(event: Event, data: EventData) -> bool:
    """Change a webinar. A change of title, time, duration or join link raises SEQUENCE and sends
    every confirmed attendee an updated invitation. Returns whether attendees were notified. Commits."""
    with writing():
        _check(data, event)
        before = {name: getattr(event, name) for name in SIGNIFICANT_FIELDS}
        apply_changes(event, data)
        event.updated_at = clock.now()  # also when only speakers or topics changed (feeds key on it)
        significant = any(getattr(event, name) != value for name, value in before.items())
        notify = significant and event.status == EventStatus.PUBLISHED
        if significant and event.status != EventStatus.DRAFT:
            event.sequence += 1
        if event.status == EventStatus.PUBLISHED and event.starts_at != before["starts_at"]:
            event.previous_starts_at = before["starts_at"]
        db.session.flush()
        if notify:
            # One job row; the worker writes the per-person rows, so the webinar's row is not held
            # while thousands of them are inserted.
            massmail.fan_out(
                event, MailKind.EVENT_UPDATED, Audience.CONFIRMED, **_what_changed(event, before)
            )
        webhooks.emit(WebhookEventType.WEBINAR_UPDATED, event)
        fill_from_waitlist(event)
        if event.starts_at != before["starts_at"]:
            audit.record(
                event, AuditAction.RESCHEDULED, f"{_utc(before['starts_at'])} → {_utc(event.starts_at)}"
            )
        else:
            changed = sorted(name for name, value in before.items() if getattr(event, name) != value)
            audit.record(event, AuditAction.EDITED, ", ".join(changed))
        db.session.commit()
    return notify


def _utc(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def _what_changed(event: Event, before: dict[str, Any]) -> dict[str, Any]:
    """What the update email names besides the new details: the old start, and the old join link
    (only whether it changed is said; the old one is not repeated)."""
    return {
        "previous_starts_at": before["starts_at"] if event.starts_at != before["starts_at"] else None,
        "previous_join_url": before["join_url"] if event.join_url != before["join_url"] else None,
    }


@dataclass(frozen=True)
class UpdateReview:
    """The update email a change would send, before the change is saved."""

    languages: list[massmail.Language]
    language: str
    rendered: dict[str, Any]

    @property
    def total(self) -> int:
        return sum(language.recipients for language in self.languages)


def review_update(
    event: Event, data: EventData, language: str, *, test_to: User | None = None
) -> UpdateReview | None:
    """The update email saving ``data`` would send, in ``language`` (else the most read one), or None
    when saving it notifies nobody. Nothing is stored: the change is applied in a savepoint that is
    rolled back. With ``test_to``, that person is emailed the update marked as a test. Commits only
    then. Raises RuleError as update_event would."""
    if event.status != EventStatus.PUBLISHED:
        return None
    _check(data, event)
    review: UpdateReview | None = None
    test: dict[str, Any] | None = None
    savepoint = db.session.begin_nested()
    try:
        before = {name: getattr(event, name) for name in SIGNIFICANT_FIELDS}
        # Pictures are left out: an upload is stored as soon as it is applied.
        apply_changes(event, replace(data, cover=None, speaker_photos={}))
        if any(getattr(event, name) != value for name, value in before.items()):
            event.sequence += 1
            db.session.flush()
            job = Broadcast(
                event_id=event.id,
                kind=MailKind.EVENT_UPDATED,
                audience=Audience.CONFIRMED,
                **_what_changed(event, before),
            )
            languages = massmail.languages(job)
            if languages:
                codes = [entry.code for entry in languages]
                chosen = language if language in codes else codes[0]
                review = UpdateReview(languages, chosen, massmail.render(job, chosen))
                if test_to is not None:
                    test = massmail.render(job, chosen, name=test_to.name, email=test_to.email)
    finally:
        savepoint.rollback()
    if test is not None and test_to is not None and review is not None:
        massmail.send_rendered_test(
            test, test_to, event_id=event.id, kind=MailKind.EVENT_UPDATED, language=review.language
        )
    return review


def publish(event: Event) -> None:
    with writing():
        if event.status == EventStatus.CANCELLED:
            raise RuleError.on("status", str(_l("A cancelled webinar cannot be published again.")))
        if event.status != EventStatus.PUBLISHED:
            event.status = EventStatus.PUBLISHED
            event.published_at = event.published_at or clock.now()
            db.session.flush()
            webhooks.emit(WebhookEventType.WEBINAR_PUBLISHED, event)
            fill_from_waitlist(event)
            audit.record(event, AuditAction.PUBLISHED)
        db.session.commit()


def publish_many(user: User, event_ids: list[int]) -> list[Event]:
    """Publish the drafts among ``event_ids`` that ``user`` may manage, in one transaction; others are
    left alone (already published, cancelled, or not theirs). Returns the webinars published. Commits."""
    with writing():
        drafts = list(
            db.session.scalars(
                events_visible_to(user, Capability.EDIT)
                .where(Event.id.in_(event_ids), Event.status == EventStatus.DRAFT)
                .order_by(Event.starts_at, Event.id)
            )
        )
        for event in drafts:
            event.status = EventStatus.PUBLISHED
            event.published_at = event.published_at or clock.now()
        db.session.flush()
        for event in drafts:
            webhooks.emit(WebhookEventType.WEBINAR_PUBLISHED, event)
            fill_from_waitlist(event)
            audit.record(event, AuditAction.PUBLISHED, actor=user)
        db.session.commit()
    return drafts


def unpublish(event: Event) -> None:
    """Hide the webinar and stop registration; existing registrations stay."""
    with writing():
        if event.status == EventStatus.PUBLISHED:
            event.status = EventStatus.DRAFT
            audit.record(event, AuditAction.UNPUBLISHED)
            db.session.flush()
            webhooks.emit(WebhookEventType.WEBINAR_UPDATED, event)
        db.session.commit()


def cancel_event(event: Event, notice: Broadcast | None = None, *, expected: int | None = None) -> None:
    """Cancel the webinar: CANCEL to every confirmed attendee, a notice to the waitlisted, sent by the
    worker. ``notice`` is the previewed send (cancellation_notice) that this confirms. Commits."""
    with writing():
        if event.status == EventStatus.CANCELLED:
            return
        if notice is not None:
            # First: a notice whose audience changed since its preview stops the cancellation.
            massmail.confirm_in_transaction(notice, expected)
        was_published = event.status == EventStatus.PUBLISHED
        event.status = EventStatus.CANCELLED
        event.cancelled_at = clock.now()
        event.sequence += 1
        db.session.flush()
        if (was_published or event.published_at) and notice is None:
            # A confirmed notice (from the preview) is this cancellation's send already.
            massmail.fan_out(event, MailKind.EVENT_CANCELLED, Audience.ALL)
        audit.record(event, AuditAction.CANCELLED)
        webhooks.emit(WebhookEventType.WEBINAR_CANCELLED, event)
        db.session.commit()


def cancellation_notice(event: Event, author: User | None) -> Broadcast | None:
    """The notice cancelling the webinar would send, waiting for the organizer's confirmation (see
    cancel_event), or None when nobody would get one. Commits."""
    if event.status == EventStatus.CANCELLED or not event.published_at:
        return None
    if not massmail.audience_size(event.id, Audience.ALL, kind=MailKind.EVENT_CANCELLED):
        return None
    return massmail.draft(event, author, kind=MailKind.EVENT_CANCELLED, audience=Audience.ALL)


def delete_draft(event: Event) -> None:
    """Delete a webinar that never took registrations. Commits."""
    with writing():
        has_registrations = db.session.execute(
            select(Registration.id).where(Registration.event_id == event.id).limit(1)
        ).first()
        if event.status != EventStatus.DRAFT or has_registrations:
            raise RuleError.on(
                "status", str(_l("Only a draft without registrations can be deleted; cancel it instead."))
            )
        db.session.delete(event)
        db.session.commit()
