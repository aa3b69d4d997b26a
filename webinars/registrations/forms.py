from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import languages
from ..models import Event, Question
from ..questions.forms import answer_value, field_name, public_field
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

    # The webinar's own questions, with their bound fields (see registration_form_for).
    questions: list[tuple[Question, Field]] = []

    def visitor_timezone(self) -> str | None:
        zone = (self.timezone.data or "").strip()
        return zone if is_timezone(zone) else None

    def answers(self) -> dict[int, str]:
        return {question.id: answer_value(question, field) for question, field in self.questions}


def registration_form_for(event: Event, locale: str) -> RegistrationForm:
    """The registration form with the webinar's questions, labelled in ``locale``."""
    asked = event.active_questions
    if not asked:  # most webinars ask nothing more: no class to build on every sign-up
        return RegistrationForm()
    fields = {field_name(question): public_field(question, locale) for question in asked}
    form_class = type("EventRegistrationForm", (RegistrationForm,), fields)
    form: RegistrationForm = form_class()
    form.questions = [(question, form[field_name(question)]) for question in asked]
    return form


class CancelForm(BaseForm):
    """Only the CSRF token: cancelling is one button."""


class DecisionForm(BaseForm):
    """Approve or decline sign-ups; the reason goes into the email of those declined."""

    reason = TextAreaField(
        _l("Reason (optional, sent to the people declined)"), validators=[Optional(), Length(max=2000)]
    )


class AddPersonForm(BaseForm):
    """An organizer adds someone by hand (a speaker's guest, a sign-up received by phone)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    organisation = StringField(_l("Organisation (optional)"), validators=[Optional(), Length(max=200)])
    send_invitation = BooleanField(_l("Send them the invitation email"), default=True)
    # The site's languages; offered by the view (offer_email_languages), the webinar's preselected.
    language = SelectField(_l("Language of their emails"), choices=[], validate_choice=True)

    def offer_email_languages(self, event_language: str) -> None:
        self.language.choices = list(languages.menu().items())
        if not self.language.data:
            spoken = event_language in languages.site_languages()
            self.language.data = event_language if spoken else languages.current()
