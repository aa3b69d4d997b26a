from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..timefmt import is_timezone
from ..validators import BaseForm, valid_email


class RegistrationForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    organisation = StringField(_l("Organisation (optional)"), validators=[Optional(), Length(max=200)])
    consent = BooleanField(
        _l("I agree to receive emails about this webinar (confirmation, changes, reminders)."),
        validators=[DataRequired(_l("We need your consent to send you the invitation."))],
    )
    # Filled in by the browser's script: the visitor's own time zone, for their emails.
    timezone = HiddenField()
    # A honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def visitor_timezone(self) -> str | None:
        zone = (self.timezone.data or "").strip()
        return zone if is_timezone(zone) else None


class CancelForm(BaseForm):
    """Only the CSRF token: cancelling is one button."""
