from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..models import TokenScope
from ..validators import BaseForm, no_control_characters, valid_email


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


class AccountForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))],
    )


class InviteOrganizerForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    is_admin = BooleanField(_l("Administrator (can manage every webinar and organizer)"))


class EditOrganizerForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    is_admin = BooleanField(_l("Administrator (can manage every webinar and organizer)"))


class RemoveOrganizerForm(BaseForm):
    heir = SelectField(_l("Their webinars and series go to"), coerce=int, validators=[DataRequired()])


class NewPasswordForm(BaseForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class AccountStateForm(BaseForm):
    """Only the CSRF token: disabling or enabling an account is one button."""


class ApiTokenForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80), no_control_characters])
    scope = RadioField(
        _l("Access"),
        choices=[
            SelectChoice(TokenScope.READ.value, _l("Read: webinars, registrations, export and email log")),
            SelectChoice(
                TokenScope.WRITE.value, _l("Read and write: also create, change, publish and cancel")
            ),
        ],
        default=TokenScope.READ.value,
        validators=[DataRequired()],
    )
