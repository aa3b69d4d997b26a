"""WTForms validators shared by the forms of several areas."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import ValidationError

from .text import normalise_email
from .timefmt import is_timezone


def valid_email(form: Form, field: Field) -> None:
    try:
        normalise_email(field.data or "")
    except ValueError as error:
        raise ValidationError(_l("Enter a valid email address.")) from error


def valid_timezone(form: Form, field: Field) -> None:
    if not is_timezone((field.data or "").strip()):
        raise ValidationError(_l("Choose a time zone from the list, for example America/Santiago."))


def valid_origins(form: Form, field: Field) -> None:
    """A list of web origins, one a line; the field keeps them normalised."""
    from .text import MAX_EMBED_ORIGINS, normalise_origin, normalise_origins

    lines = (field.data or "").splitlines()
    for line in lines:
        if not line.strip():
            continue
        try:
            normalise_origin(line)
        except ValueError as error:
            raise ValidationError(
                _l(
                    "%(value)s is not an origin. Write one a line, like https://example.org "
                    "(scheme and host, no path).",
                    value=line.strip()[:80],
                )
            ) from error
    try:
        field.data = "\n".join(normalise_origins(lines))
    except ValueError as error:
        raise ValidationError(_l("List at most %(count)s origins.", count=MAX_EMBED_ORIGINS)) from error


_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(form: Form, field: Field) -> None:
    """Typed text keeps its line breaks and tabs, never other control characters."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(value, str) and _CONTROL_EXCEPT_LINES.search(value) for value in values):
        raise ValidationError(_l("Remove the invisible control characters from this text."))
