from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import labels
from ..models import Audience
from ..validators import BaseForm, web_link

AUDIENCE_LABELS = labels.AUDIENCES
# A message goes to the people with a seat or waiting for one; the recording also to who came or not.
MESSAGE_AUDIENCES = (Audience.CONFIRMED, Audience.WAITLISTED, Audience.ALL)
RECORDING_AUDIENCES = (Audience.ALL, Audience.ATTENDED, Audience.ABSENT)


class MessageForm(BaseForm):
    audience = RadioField(
        _l("Send to"),
        choices=[SelectChoice(key.value, AUDIENCE_LABELS[key]) for key in MESSAGE_AUDIENCES],
        default=Audience.CONFIRMED.value,
        coerce=Audience,
        validators=[DataRequired()],
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])
    preview = SubmitField(_l("Preview"))


class RecordingForm(BaseForm):
    recording_url = URLField(_l("Recording link"), validators=[Optional(), Length(max=500), web_link])
    recording_summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])
    notify = SelectField(
        _l("Email the recording to"),
        choices=[
            SelectChoice("", _l("Nobody (just publish it on the page)")),
            *(SelectChoice(key.value, AUDIENCE_LABELS[key]) for key in RECORDING_AUDIENCES),
        ],
        default="",
        validators=[Optional()],
    )
