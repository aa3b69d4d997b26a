"""WTForms validators shared by the forms of several areas."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

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


# Tabs and line breaks belong in multi-line text; every other control character is refused.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def single_line_text(form: Form, field: Field) -> None:
    if _CONTROL_IN_LINE.search(field.data or ""):
        raise ValidationError(_l("Remove the control characters (line breaks, tabs) from this field."))


def multi_line_text(form: Form, field: Field) -> None:
    if _CONTROL_IN_TEXT.search(field.data or ""):
        raise ValidationError(_l("Remove the control characters from this field."))


def web_link(form: Form, field: Field) -> None:
    """An http(s) address with a host: what a browser can open, never javascript: or data:."""
    value = (field.data or "").strip()
    if not value:
        return
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(character.isspace() for character in value)
        or _CONTROL_IN_LINE.search(value)
    ):
        raise ValidationError(_l("Enter a web address starting with https:// or http://."))


def one_per_line(max_items: int, max_length: int) -> Callable[[Form, Field], None]:
    """A list typed one item per line: at most ``max_items`` lines of at most ``max_length`` characters."""

    def check(form: Form, field: Field) -> None:
        items = split_lines(field.data or "")
        if len(items) > max_items:
            raise ValidationError(_l("At most %(count)s lines.", count=max_items))
        if any(len(item) > max_length for item in items):
            raise ValidationError(_l("Each line may have at most %(count)s characters.", count=max_length))

    return check


def split_lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, with their inner whitespace collapsed, in order."""
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


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
