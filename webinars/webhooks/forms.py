from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import labels
from ..models import WebhookEventType
from ..validators import BaseForm
from .service import SUBSCRIBABLE, EndpointData

EVENT_LABELS = {kind.value: text for kind, text in labels.LABELS[WebhookEventType].items()}


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
