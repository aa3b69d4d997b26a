from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..validators import BaseForm, web_link

AUDIENCE_LABELS = {
    "confirmed": _l("Confirmed attendees"),
    "waitlisted": _l("People on the waitlist"),
    "all": _l("Everyone registered (confirmed and waitlisted)"),
    "attended": _l("Those marked as attended"),
    "absent": _l("Confirmed attendees not marked as attended"),
}


class MessageForm(BaseForm):
    audience = RadioField(
        _l("Send to"),
        choices=[SelectChoice(key, AUDIENCE_LABELS[key]) for key in ("confirmed", "waitlisted", "all")],
        default="confirmed",
        validators=[DataRequired()],
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send"))


class RecordingForm(BaseForm):
    recording_url = URLField(_l("Recording link"), validators=[Optional(), Length(max=500), web_link])
    recording_summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])
    notify = SelectField(
        _l("Email the recording to"),
        choices=[
            SelectChoice("", _l("Nobody (just publish it on the page)")),
            SelectChoice("all", AUDIENCE_LABELS["all"]),
            SelectChoice("attended", AUDIENCE_LABELS["attended"]),
            SelectChoice("absent", AUDIENCE_LABELS["absent"]),
        ],
        default="",
        validators=[Optional()],
    )
