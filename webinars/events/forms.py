from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from ..models import DEFAULT_REMINDER_OFFSETS, Event
from ..validators import BaseForm, BaseSubForm, valid_origins, valid_timezone
from .service import EventData


class SpeakerForm(BaseSubForm):
    name = StringField(_l("Speaker name"), validators=[Optional(), Length(max=120)])
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=200)])


class EventForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), valid_timezone])
    duration = IntegerField(
        _l("Duration (minutes)"), default=60, validators=[DataRequired(), NumberRange(min=5, max=24 * 60)]
    )
    join_url = URLField(_l("Join link"), validators=[Optional(), URL(require_tld=False), Length(max=500)])
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    deadline_date = DateField(_l("Registration closes on"), validators=[Optional()])
    deadline_time = TimeField(_l("Registration closes at"), validators=[Optional()])
    speakers = FieldList(FormField(SpeakerForm), min_entries=3, max_entries=20)
    series = SelectField(
        _l("Series"), coerce=int, choices=[SelectChoice(0, "—")], default=0, validate_choice=True
    )
    number = IntegerField(_l("Number in the series"), validators=[Optional(), NumberRange(min=1, max=100000)])
    tags = StringField(_l("Topics"), validators=[Optional(), Length(max=500)])
    embed_origins = TextAreaField(
        _l("Websites that may embed the sign-up form"),
        validators=[Optional(), Length(max=4500), valid_origins],
    )
    approval_required = BooleanField(_l("Approve each sign-up before it gets a seat"))
    # The webinar being duplicated, whose questions the new one starts with.
    copy_from = HiddenField()
    reminders = StringField(
        _l("Reminders (minutes before the start)"),
        default=DEFAULT_REMINDER_OFFSETS,
        validators=[Optional(), Length(max=100)],
    )

    def validate_reminders(self, field: StringField) -> None:
        try:
            minutes = [int(part) for part in (field.data or "").replace(" ", "").split(",") if part]
        except ValueError as error:
            raise ValidationError(_l("Write minutes separated by commas, for example 1440, 60.")) from error
        if any(m < 5 or m > 60 * 24 * 60 for m in minutes):
            raise ValidationError(_l("Each reminder must be between 5 minutes and 60 days before the start."))
        field.data = ",".join(str(m) for m in sorted(set(minutes), reverse=True))

    def validate_deadline_time(self, field: TimeField) -> None:
        if bool(self.deadline_date.data) != bool(field.data):
            raise ValidationError(_l("Give both the date and the time, or neither."))

    def _in_zone(self, day, time) -> datetime:  # type: ignore[no-untyped-def]
        return datetime.combine(day, time, tzinfo=ZoneInfo(self.timezone.data.strip()))

    def to_data(self) -> EventData:
        deadline = None
        if self.deadline_date.data and self.deadline_time.data:
            deadline = self._in_zone(self.deadline_date.data, self.deadline_time.data)
        return EventData(
            title=self.title.data or "",
            summary=self.summary.data or "",
            description_md=self.description.data or "",
            starts_at=self._in_zone(self.start_date.data, self.start_time.data),
            timezone=self.timezone.data.strip(),
            duration_minutes=self.duration.data,
            join_url=self.join_url.data or "",
            capacity=self.capacity.data,
            registration_deadline=deadline,
            speakers=[(s.form.name.data or "", s.form.affiliation.data or "") for s in self.speakers],
            reminder_offsets=self.reminders.data or "",
            series_id=self.series.data or None,
            number=self.number.data,
            tags=[name for name in (self.tags.data or "").split(",") if name.strip()],
            embed_origins=[line for line in (self.embed_origins.data or "").splitlines() if line.strip()],
            approval_required=bool(self.approval_required.data),
        )

    def fill_from_data(self, data: EventData) -> None:
        """Prefill from ``data`` without a start: the organizer picks the new date and time."""
        self.title.data = data.title
        self.summary.data = data.summary
        self.description.data = data.description_md
        self.timezone.data = data.timezone
        self.duration.data = data.duration_minutes
        self.join_url.data = data.join_url
        self.capacity.data = data.capacity
        self.reminders.data = data.reminder_offsets
        self.series.data = data.series_id or 0
        self.number.data = data.number
        self.tags.data = ", ".join(data.tags)
        self.embed_origins.data = "\n".join(data.embed_origins)
        self.approval_required.data = data.approval_required
        while len(self.speakers.entries):
            self.speakers.pop_entry()
        for name, affiliation in data.speakers:
            self.speakers.append_entry({"name": name, "affiliation": affiliation})
        for _ in range(max(2, 3 - len(data.speakers))):
            self.speakers.append_entry()

    def fill_from(self, event: Event) -> None:
        zone = ZoneInfo(event.timezone)
        local_start = event.starts_at.astimezone(zone)
        self.title.data = event.title
        self.summary.data = event.summary
        self.description.data = event.description_md
        self.start_date.data = local_start.date()
        self.start_time.data = local_start.time().replace(tzinfo=None)
        self.timezone.data = event.timezone
        self.duration.data = event.duration_minutes
        self.join_url.data = event.join_url
        self.capacity.data = event.capacity
        self.reminders.data = event.reminder_offsets
        self.series.data = event.series_id or 0
        self.number.data = event.number
        self.tags.data = ", ".join(tag.name for tag in event.tags)
        self.embed_origins.data = event.embed_origins
        self.approval_required.data = event.approval_required
        if event.registration_deadline:
            local_deadline = event.registration_deadline.astimezone(zone)
            self.deadline_date.data = local_deadline.date()
            self.deadline_time.data = local_deadline.time().replace(tzinfo=None)
        while len(self.speakers.entries):
            self.speakers.pop_entry()
        for speaker in event.speakers:
            self.speakers.append_entry({"name": speaker.name, "affiliation": speaker.affiliation})
        for _ in range(max(2, 3 - len(event.speakers))):
            self.speakers.append_entry()
