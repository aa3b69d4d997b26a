from __future__ import annotations

import re
from datetime import date, datetime, time
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
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import languages, topics
from ..images.forms import alt_field, change_from, picture_field, require_alt, uploaded
from ..images.service import ImageChange
from ..models import DEFAULT_REMINDER_OFFSETS, Event, natural_key
from ..validators import (
    BaseForm,
    BaseSubForm,
    multi_line_text,
    one_per_line,
    single_line_text,
    valid_origins,
    valid_timezone,
    web_link,
)
from .service import EventData


def topics_field() -> TextAreaField:
    return TextAreaField(
        _l("Other topics (one per line)"),
        validators=[
            Optional(),
            Length(max=4000),
            multi_line_text,
            one_per_line(topics.MAX_TOPICS, topics.NAME_LENGTH),
        ],
    )


def suggested_topics_field() -> SelectMultipleField:
    # The choices are the administrator's list, offered when the form is built; a name not on it is
    # dropped rather than refused, since the list may change while someone fills in the form.
    return SelectMultipleField(
        _l("Topics"),
        coerce=str,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
        render_kw={"class": "choices"},
    )


def offer_topics(form: EventForm | ScheduleFields) -> None:
    form.suggested_topics.choices = [SelectChoice(tag.name, topics.label(tag)) for tag in topics.suggested()]


def chosen_topics(form: EventForm | ScheduleFields) -> list[str]:
    offered = {choice[0] for choice in form.suggested_topics.iter_choices()}
    ticked = [name for name in form.suggested_topics.data or [] if name in offered]
    return ticked + topics.parse(form.tags.data or "")


def show_topics(form: EventForm | ScheduleFields, names: list[str]) -> None:
    """Tick the suggested topics among ``names``; write the others one per line."""
    offered = {choice[0] for choice in form.suggested_topics.iter_choices()}
    ordered = sorted(names, key=natural_key)
    form.suggested_topics.data = [name for name in ordered if name in offered]
    form.tags.data = "\n".join(name for name in ordered if name not in offered)


def speakers_from_lines(text: str) -> list[tuple[str, str]]:
    """One speaker per line, as "Name, Affiliation" or "Name (Affiliation)": the first comma ends the
    name, since affiliations often hold commas."""
    speakers = []
    for line in (text or "").splitlines():
        bracketed = re.fullmatch(r"\s*([^(),]+?)\s*\(([^()]*)\)\s*", line)
        if bracketed:
            name, affiliation = bracketed.groups()
        else:
            name, _comma, affiliation = line.partition(",")
        if name.strip():
            speakers.append((" ".join(name.split()), " ".join(affiliation.split())))
    return speakers


def check_speaker_lines(form: BaseForm, field: TextAreaField) -> None:
    for name, affiliation in speakers_from_lines(field.data or ""):
        if len(name) > 120 or len(affiliation) > 200:
            raise ValidationError(
                _l(
                    "Names may have at most 120 characters and affiliations at most 200: %(name)s",
                    name=name[:60],
                )
            )


def speakers_as_lines(speakers: list[tuple[str, str]]) -> str:
    return "\n".join(f"{name}, {affiliation}" if affiliation else name for name, affiliation in speakers)


class ScheduleFields(BaseForm):
    """What the schedule form shares with the topics helpers (see series.forms.ScheduleForm)."""

    suggested_topics = suggested_topics_field()
    tags = topics_field()


class SpeakerForm(BaseSubForm):
    name = StringField(_l("Speaker name"), validators=[Optional(), Length(max=120)])
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=200)])
    photo = picture_field(_l("Photo"))
    photo_alt = alt_field(_l("Photo description (alt text)"))

    def validate_photo_alt(self, field: StringField) -> None:
        require_alt(self.photo, field, has_picture=False)

    def photo_change(self) -> ImageChange | None:
        """A new photo, or new alt text for the one the speaker has; None leaves the photo alone."""
        alt = (self.photo_alt.data or "").strip()
        if not uploaded(self.photo) and not alt:
            return None
        return ImageChange(new=getattr(self.photo, "processed", None), alt=alt or None)


def language_field() -> SelectField:
    # The choices depend on the configuration: the view offers them (offer_languages).
    return SelectField(_l("Language of the webinar"), choices=[], validate_choice=True)


def offer_languages(field: SelectField, default: str) -> None:
    """The content languages, named in the organizer's language; ``default`` preselected when the
    form is shown for the first time."""
    field.choices = [SelectChoice(code, name) for code, name in languages.content_choices()]
    if not field.data:
        field.data = default


class EventForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), single_line_text])
    language = language_field()
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500), multi_line_text])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=20000), multi_line_text]
    )
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), valid_timezone])
    duration = IntegerField(
        _l("Duration (minutes)"), default=60, validators=[DataRequired(), NumberRange(min=5, max=24 * 60)]
    )
    join_url = URLField(_l("Join link"), validators=[Optional(), Length(max=500), web_link])
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    deadline_date = DateField(_l("Registration closes on"), validators=[Optional()])
    deadline_time = TimeField(_l("Registration closes at"), validators=[Optional()])
    speakers = FieldList(FormField(SpeakerForm), min_entries=3, max_entries=20)
    series = SelectField(
        _l("Series"), coerce=int, choices=[SelectChoice(0, "—")], default=0, validate_choice=True
    )
    number = IntegerField(_l("Number in the series"), validators=[Optional(), NumberRange(min=1, max=100000)])
    suggested_topics = suggested_topics_field()
    tags = topics_field()
    embed_origins = TextAreaField(
        _l("Websites that may embed the sign-up form"),
        validators=[Optional(), Length(max=4500), valid_origins],
    )
    approval_required = BooleanField(_l("Approve each sign-up before it gets a seat"))
    cover = picture_field(_l("Cover image"))
    cover_alt = alt_field(_l("Cover description (alt text)"))
    remove_cover = BooleanField(_l("Remove the cover image"))
    # Set by the view when the webinar already has a cover, whose alt text then stays required.
    has_cover = False
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

    def validate_cover_alt(self, field: StringField) -> None:
        require_alt(self.cover, field, self.has_cover, removing=bool(self.remove_cover.data))

    def validate_deadline_time(self, field: TimeField) -> None:
        if bool(self.deadline_date.data) != bool(field.data):
            raise ValidationError(_l("Give both the date and the time, or neither."))

    def _in_zone(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=ZoneInfo(self.timezone.data.strip()))

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
            tags=chosen_topics(self),
            embed_origins=[line for line in (self.embed_origins.data or "").splitlines() if line.strip()],
            approval_required=bool(self.approval_required.data),
            language=self.language.data or "",
            cover=change_from(self.cover, self.cover_alt, self.remove_cover),
            speaker_photos={
                index: change
                for index, entry in enumerate(self.speakers)
                if (change := entry.form.photo_change()) is not None
            },
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
        show_topics(self, data.tags)
        self.embed_origins.data = "\n".join(data.embed_origins)
        self.approval_required.data = data.approval_required
        self.language.data = data.language
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
        show_topics(self, [tag.name for tag in event.tags])
        self.embed_origins.data = event.embed_origins
        self.approval_required.data = event.approval_required
        self.language.data = event.language
        self.cover_alt.data = event.cover_alt
        self.has_cover = event.cover_id is not None
        if event.registration_deadline:
            local_deadline = event.registration_deadline.astimezone(zone)
            self.deadline_date.data = local_deadline.date()
            self.deadline_time.data = local_deadline.time().replace(tzinfo=None)
        while len(self.speakers.entries):
            self.speakers.pop_entry()
        for speaker in event.speakers:
            self.speakers.append_entry(
                {"name": speaker.name, "affiliation": speaker.affiliation, "photo_alt": speaker.photo_alt}
            )
        for _ in range(max(2, 3 - len(event.speakers))):
            self.speakers.append_entry()


class TopicListForm(BaseForm):
    topics = TextAreaField(
        _l("Suggested topics (one per line: English | Español | Português)"),
        validators=[Optional(), Length(max=30000), multi_line_text],
    )
    save = SubmitField(_l("Save the list"))
    load_sdgs = SubmitField(_l("Replace the list with the 17 Sustainable Development Goals"))
