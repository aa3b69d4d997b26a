"""Forms for series, recurring schedules and the archive filters."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..events.forms import (
    ScheduleFields,
    check_speaker_lines,
    chosen_topics,
    language_field,
    speakers_from_lines,
)
from ..images.forms import alt_field, change_from, picture_field, require_alt
from ..models import Series
from ..validators import BaseForm, multi_line_text, one_per_line, single_line_text, valid_timezone, web_link
from .service import MAX_OCCURRENCES, Frequency, ScheduleData, SeriesData


class SeriesForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Web address"), validators=[Optional(), Length(max=200)])
    language = language_field()
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    cover = picture_field(_l("Cover image"))
    cover_alt = alt_field(_l("Cover description (alt text)"))
    remove_cover = BooleanField(_l("Remove the cover image"))
    # Set by the view when the series already has a cover, whose alt text then stays required.
    has_cover = False

    def validate_cover_alt(self, field: StringField) -> None:
        require_alt(self.cover, field, self.has_cover, removing=bool(self.remove_cover.data))

    def to_data(self) -> SeriesData:
        return SeriesData(
            title=self.title.data or "",
            slug=self.slug.data or "",
            description_md=self.description.data or "",
            language=self.language.data or "",
            cover=change_from(self.cover, self.cover_alt, self.remove_cover),
        )

    def fill_from(self, series: Series) -> None:
        self.title.data = series.title
        self.slug.data = series.slug
        self.description.data = series.description_md
        self.language.data = series.language
        self.cover_alt.data = series.cover_alt
        self.has_cover = series.cover_id is not None


FREQUENCY_CHOICES = [
    SelectChoice(Frequency.WEEKLY.value, _l("Weekly (every N weeks, same weekday)")),
    SelectChoice(Frequency.MONTHLY.value, _l("Monthly (every N months, same day of the month)")),
    SelectChoice(
        Frequency.MONTHLY_WEEKDAY.value, _l("Monthly (every N months, same weekday, e.g. the second Tuesday)")
    ),
]


class ScheduleForm(ScheduleFields):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), single_line_text])
    series = SelectField(
        _l("Series"), coerce=int, choices=[SelectChoice(0, "—")], default=0, validate_choice=True
    )
    first_number = IntegerField(
        _l("Number of the first webinar"), validators=[Optional(), NumberRange(min=1, max=100000)]
    )
    first_date = DateField(_l("First date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), valid_timezone])
    frequency = SelectField(_l("Repeats"), choices=FREQUENCY_CHOICES, default=Frequency.WEEKLY.value)
    interval = IntegerField(
        _l("Repeat every (weeks or months)"),
        default=1,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_OCCURRENCES)],
    )
    count = IntegerField(
        _l("Number of webinars"),
        default=6,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_OCCURRENCES)],
    )
    duration = IntegerField(
        _l("Duration (minutes)"), default=60, validators=[DataRequired(), NumberRange(min=5, max=24 * 60)]
    )
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    join_url = URLField(_l("Join link"), validators=[Optional(), Length(max=500), web_link])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500), multi_line_text])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=20000), multi_line_text]
    )
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
    publish = BooleanField(_l("Publish them at once (registration opens for every date)"))
    preview = SubmitField(_l("Preview the dates"))
    create = SubmitField(_l("Create the drafts"))

    def to_data(self) -> ScheduleData:
        return ScheduleData(
            title=self.title.data or "",
            first_local=datetime.combine(self.first_date.data, self.start_time.data),
            timezone=(self.timezone.data or "").strip(),
            frequency=Frequency(self.frequency.data),
            interval=self.interval.data,
            count=self.count.data,
            duration_minutes=self.duration.data,
            series_id=self.series.data or None,
            first_number=self.first_number.data if self.series.data else None,
            summary=self.summary.data or "",
            description_md=self.description.data or "",
            speakers=speakers_from_lines(self.speakers.data or ""),
            join_url=self.join_url.data or "",
            capacity=self.capacity.data,
            tags=chosen_topics(self),
            publish=bool(self.publish.data),
        )
