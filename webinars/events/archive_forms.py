"""Forms for archive entries: one entry on a page, one row of an imported file, and the import itself.

A row of a file is read by the same fields and validators as the page's form, so a file and a person
typing meet exactly the same checks.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import topics
from ..models import Event
from ..validators import (
    BaseForm,
    BaseSubForm,
    multi_line_text,
    one_per_line,
    single_line_text,
    valid_timezone,
    web_link,
)
from .archive_entries import ArchiveEntryData
from .forms import (
    check_speaker_lines,
    chosen_topics,
    show_topics,
    speakers_as_lines,
    speakers_from_lines,
    suggested_topics_field,
    topics_field,
)


class _EntryFields:
    """The fields of an archive entry, named as the columns of an import file."""

    class Meta:
        # archive_entries.check_entry bounds the date: on or after 2000, and already ended.
        bound_years = False

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), single_line_text])
    date = DateField(_l("Date"), validators=[InputRequired(_l("Give the date as YYYY-MM-DD."))])
    time = TimeField(_l("Start time"), validators=[Optional()])
    timezone = StringField(_l("Time zone"), default="UTC", validators=[DataRequired(), valid_timezone])
    duration = IntegerField(
        _l("Duration (minutes)"), default=60, validators=[Optional(), NumberRange(min=5, max=24 * 60)]
    )
    number = IntegerField(_l("Number in the series"), validators=[Optional(), NumberRange(min=1, max=100000)])
    speakers = TextAreaField(
        _l("Speakers (one per line: name, affiliation)"),
        validators=[
            Optional(),
            Length(max=4000),
            multi_line_text,
            one_per_line(20, 330),
            check_speaker_lines,
        ],
    )
    recording_url = URLField(_l("Recording link"), validators=[Optional(), Length(max=500), web_link])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500), multi_line_text])
    registrations = IntegerField(
        _l("People registered"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    attendance = IntegerField(
        _l("People who attended"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )

    def entry_data(self, series_id: int | None, topic_names: list[str]) -> ArchiveEntryData:
        zone = (self.timezone.data or "UTC").strip()
        starts_at = datetime.combine(
            self.date.data, self.time.data or datetime.min.time(), tzinfo=ZoneInfo(zone)
        )
        return ArchiveEntryData(
            title=self.title.data or "",
            starts_at=starts_at,
            timezone=zone,
            duration_minutes=self.duration.data or 60,
            summary=self.summary.data or "",
            recording_url=self.recording_url.data or "",
            speakers=speakers_from_lines(self.speakers.data or ""),
            series_id=series_id,
            number=self.number.data,
            tags=topic_names,
            registrations_reported=self.registrations.data,
            attendance_reported=self.attendance.data,
        )


class ArchiveRowForm(_EntryFields, BaseSubForm):
    """One row of an import file (no CSRF token: the import form carries it)."""

    topics = TextAreaField(
        _l("Topics"),
        validators=[
            Optional(),
            Length(max=4000),
            multi_line_text,
            one_per_line(topics.MAX_TOPICS, topics.NAME_LENGTH),
        ],
    )

    def to_data(self, series_id: int | None) -> ArchiveEntryData:
        return self.entry_data(series_id, topics.parse(self.topics.data or ""))


class ArchiveEntryForm(_EntryFields, BaseForm):
    series = SelectField(
        _l("Series"), coerce=int, choices=[SelectChoice(0, "—")], default=0, validate_choice=True
    )
    suggested_topics = suggested_topics_field()
    tags = topics_field()
    recording_summary = TextAreaField(
        _l("About the recording"), validators=[Optional(), Length(max=5000), multi_line_text]
    )

    def to_data(self) -> ArchiveEntryData:
        data = self.entry_data(self.series.data or None, chosen_topics(self))
        data.recording_summary = self.recording_summary.data or ""
        return data

    def fill_from(self, event: Event) -> None:
        local_start = event.starts_at.astimezone(ZoneInfo(event.timezone))
        self.title.data = event.title
        self.date.data = local_start.date()
        self.time.data = local_start.time().replace(tzinfo=None)
        self.timezone.data = event.timezone
        self.duration.data = event.duration_minutes
        self.number.data = event.number
        self.series.data = event.series_id or 0
        self.speakers.data = speakers_as_lines([(s.name, s.affiliation) for s in event.speakers])
        self.recording_url.data = event.recording_url
        self.recording_summary.data = event.recording_summary
        self.summary.data = event.summary
        self.registrations.data = event.registrations_reported
        self.attendance.data = event.attendance_reported
        show_topics(self, [tag.name for tag in event.tags])


class ArchiveImportForm(BaseForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[Optional(), FileAllowed(["csv", "xlsx", "txt"], _l("Choose a .csv or .xlsx file."))],
    )
    series = SelectField(
        _l("Series"), coerce=int, choices=[SelectChoice(0, "—")], default=0, validate_choice=True
    )
    # The rows read from the file, carried from the preview to the confirmation and checked again there.
    rows = HiddenField(validators=[Optional(), Length(max=2_000_000)])
    preview = SubmitField(_l("Preview"))
    confirm = SubmitField(_l("Import these webinars"))
