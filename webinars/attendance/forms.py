from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from ..validators import BaseForm


class ImportForm(BaseForm):
    report = FileField(
        _l("Participant report (CSV from Zoom, Microsoft Teams or Google Meet)"),
        validators=[FileRequired(_l("Choose the report file to upload."))],
    )
    minimum_minutes = IntegerField(
        _l("Minimum minutes to count as attended"),
        validators=[InputRequired(), NumberRange(min=0, max=24 * 60)],
    )

    def validate_report(self, field: FileField) -> None:
        limit = current_app.config["ATTENDANCE_UPLOAD_MAX_BYTES"]
        data = field.data.stream.read(limit + 1)
        if len(data) > limit:
            raise ValidationError(
                _l(
                    "The file is larger than %(size)s MB: upload the participant report only.",
                    size=limit // 2**20,
                )
            )
        self.report_bytes = data


class MatchForm(BaseForm):
    registration = SelectField(_l("Registered person"), coerce=int, validate_choice=True)
