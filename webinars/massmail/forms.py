from __future__ import annotations

from wtforms import HiddenField, IntegerField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..validators import BaseForm


class ReviewForm(BaseForm):
    """The buttons under a preview: a test to oneself, and the confirmation carrying the number of
    people it was shown for (another number by then means the audience changed: massmail.confirm)."""

    language = HiddenField(validators=[Optional(), Length(max=8)])
    expected = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0, max=10**9)])
