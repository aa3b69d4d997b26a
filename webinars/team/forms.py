from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..permissions import ROLE_LABELS, Role
from ..validators import BaseForm, valid_email

ROLE_HINTS = {
    Role.OWNER: _l("Owner: everything, including the team, cancelling and deleting"),
    Role.EDITOR: _l("Editor: edit, publish, registrations, messages; not cancel, delete or the team"),
    Role.VIEWER: _l("Viewer: sees the lists and reports, changes nothing"),
}


def role_choices(roles: list[Role]) -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_HINTS[role]) for role in roles]


class InviteForm(BaseForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254), valid_email])
    role = SelectField(_l("Role"), validators=[DataRequired()])


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])

    def labels(self) -> dict[str, str]:
        return {role.value: str(label) for role, label in ROLE_LABELS.items()}


class ActionForm(BaseForm):
    """Only the CSRF token: resend, revoke, remove and accept are one button each."""


class JoinForm(BaseForm):
    """An invited person without an account chooses their name and password."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))],
    )
