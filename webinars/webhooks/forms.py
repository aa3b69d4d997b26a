from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..validators import BaseForm
from .service import SUBSCRIBABLE, EndpointData

EVENT_LABELS = {
    "registration.created": _l("Someone registered (registration.created)"),
    "registration.cancelled": _l("A registration was cancelled or declined (registration.cancelled)"),
    "registration.promoted": _l(
        "Someone got a seat from the waitlist or by approval (registration.promoted)"
    ),
    "webinar.published": _l("The webinar was published (webinar.published)"),
    "webinar.updated": _l("The webinar was changed (webinar.updated)"),
    "webinar.cancelled": _l("The webinar was cancelled (webinar.cancelled)"),
}


class EventChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(BaseForm):
    url = StringField(
        _l("Endpoint URL"),
        validators=[InputRequired(), Length(max=500)],
        render_kw={"inputmode": "url", "autocomplete": "url", "spellcheck": "false"},
    )
    description = StringField(_l("Description (optional)"), validators=[Optional(), Length(max=200)])
    # validate_choice off: the service says which values are events, with its own message.
    event_types = EventChoices(
        _l("Events to send"),
        choices=[SelectChoice(kind.value, EVENT_LABELS[kind.value]) for kind in SUBSCRIBABLE],
        validate_choice=False,
    )

    def data_for_service(self) -> EndpointData:
        return EndpointData(
            url=self.url.data or "",
            event_types=list(self.event_types.data or []),
            description=self.description.data or "",
        )
