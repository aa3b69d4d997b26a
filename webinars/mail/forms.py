from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from ..validators import BaseForm


class RetryFailedForm(BaseForm):
    """Queue every failed email again (of a webinar, or of the whole site), optionally only those
    queued in a period."""

    since = DateField(_l("Queued from"), validators=[Optional()])
    until = DateField(_l("Queued until"), validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError(_l("The end of the period cannot come before its start."))
