from __future__ import annotations

from wtforms import HiddenField

from ..registrations.forms import RegistrationForm


class EmbedRegistrationForm(RegistrationForm):
    """The registration form without the session-bound CSRF token, which cannot work in a third-party
    iframe; ``embed_token`` and the Origin check take its place (see security.py)."""

    class Meta:
        csrf = False

    embed_token = HiddenField()
