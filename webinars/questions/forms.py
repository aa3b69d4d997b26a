"""The organizer's question form, and the fields each question adds to the public registration form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Question, QuestionKind
from ..validators import BaseForm, no_control_characters
from . import service
from .service import KIND_LABELS, LONG_TEXT_MAX, SHORT_TEXT_MAX, QuestionData


class QuestionForm(BaseForm):
    kind = SelectField(
        _l("Kind of question"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    label = StringField(_l("Question"), validators=[DataRequired(), Length(max=300), no_control_characters])
    label_es = StringField(_l("Question in Spanish"), validators=[Optional(), Length(max=300)])
    label_pt = StringField(_l("Question in Portuguese"), validators=[Optional(), Length(max=300)])
    options = TextAreaField(_l("Choices, one per line"), validators=[Optional(), Length(max=10000)])
    options_es = TextAreaField(_l("Choices in Spanish"), validators=[Optional(), Length(max=10000)])
    options_pt = TextAreaField(_l("Choices in Portuguese"), validators=[Optional(), Length(max=10000)])
    required = BooleanField(_l("An answer is required"))

    def validate_label_es(self, field: StringField) -> None:
        no_control_characters(self, field)

    def validate_label_pt(self, field: StringField) -> None:
        no_control_characters(self, field)

    def validate_options(self, field: TextAreaField) -> None:
        no_control_characters(self, field)

    def validate_options_es(self, field: TextAreaField) -> None:
        no_control_characters(self, field)

    def validate_options_pt(self, field: TextAreaField) -> None:
        no_control_characters(self, field)

    def to_data(self) -> QuestionData:
        return QuestionData(
            kind=self.kind.data,
            label=self.label.data or "",
            label_es=self.label_es.data or "",
            label_pt=self.label_pt.data or "",
            options=self.options.data or "",
            options_es=self.options_es.data or "",
            options_pt=self.options_pt.data or "",
            required=bool(self.required.data),
        )

    def fill_from(self, question: Question) -> None:
        for name in ("kind", "label", "label_es", "label_pt", "options", "options_es", "options_pt"):
            getattr(self, name).data = getattr(question, name)
        self.required.data = question.required


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _one_of(values: set[str]):  # type: ignore[no-untyped-def]
    def check(form: Form, field: Field) -> None:
        given = field.data if isinstance(field.data, list) else [field.data]
        if any(value not in values for value in given if value):
            raise ValidationError(_l("Choose from the list."))

    return check


def field_name(question: Question) -> str:
    return f"question_{question.id}"


def public_field(question: Question, locale: str):  # type: ignore[no-untyped-def]
    """The unbound WTForms field that asks ``question`` in ``locale``."""
    label = service.label_for(question, locale)
    kind = question.kind
    presence = InputRequired(_l("This field is required.")) if question.required else Optional()
    if kind == QuestionKind.SHORT_TEXT:
        return StringField(label, validators=[presence, Length(max=SHORT_TEXT_MAX), no_control_characters])
    if kind == QuestionKind.LONG_TEXT:
        return TextAreaField(label, validators=[presence, Length(max=LONG_TEXT_MAX), no_control_characters])
    if kind == QuestionKind.CHECKBOX:
        required = DataRequired(_l("Tick this box to continue.")) if question.required else Optional()
        return BooleanField(label, validators=[required])
    options = service.options_for(question, locale)
    check = _one_of({value for value, _text in options})
    choices = [SelectChoice(value, text) for value, text in options]
    if kind == QuestionKind.MULTIPLE_CHOICE:
        return MultiCheckboxField(label, choices=choices, validate_choice=False, validators=[presence, check])
    if kind == QuestionKind.COUNTRY:
        return SelectField(
            label,
            choices=[SelectChoice("", _l("— choose a country —")), *choices],
            validate_choice=False,
            validators=[presence, check],
        )
    return RadioField(label, choices=choices, validate_choice=False, validators=[presence, check])


def answer_value(question: Question, field: Field) -> str:
    """What a field's data is stored as."""
    if question.kind == QuestionKind.CHECKBOX:
        return "yes" if field.data else ""
    if question.kind == QuestionKind.MULTIPLE_CHOICE:
        return "\n".join(field.data or [])
    if question.kind == QuestionKind.LONG_TEXT:
        return (field.data or "").strip()
    return " ".join((field.data or "").split())
