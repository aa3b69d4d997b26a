"""WTForms validators shared by the forms of several areas, and the base classes every form uses.

``BaseForm`` and ``BaseSubForm`` give every text field of every form the control-character rule
and every date field the year bounds, so no form can forget them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from babel import support
from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError
from wtforms.widgets import ListWidget

from .text import (
    MAX_EMBED_ORIGINS,
    UnsupportedAddress,
    has_control_characters,
    normalise_email,
    normalise_origin,
    normalise_origins,
)
from .timefmt import is_timezone

# Dates a webinar, a deadline or a schedule may have. The bound keeps every computed moment (an end,
# a reminder, a time in another zone) far from the limits of the calendar.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


def valid_email(form: Form, field: Field) -> None:
    try:
        normalise_email(field.data or "")
    except UnsupportedAddress as error:
        raise ValidationError(
            _l(
                "Write the part before the @ in Latin letters, digits and . _ - + only: "
                "our mail server cannot deliver to this address."
            )
        ) from error
    except ValueError as error:
        raise ValidationError(_l("Enter a valid email address.")) from error


def valid_timezone(form: Form, field: Field) -> None:
    if not is_timezone((field.data or "").strip()):
        raise ValidationError(_l("Choose a time zone from the list, for example America/Santiago."))


# Tabs and line breaks belong in multi-line text; every other control character is refused
# (webinars.text.has_control_characters: the one rule of forms, services and the API).


def single_line_text(form: Form, field: Field) -> None:
    """Names, titles, subjects, URLs: no control characters, line breaks and tabs included."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(_l("Remove the control characters (line breaks, tabs) from this field."))


def multi_line_text(form: Form, field: Field) -> None:
    """Descriptions and messages: line breaks and tabs, but no other control characters."""
    if isinstance(field.data, str) and has_control_characters(field.data, multiline=True):
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
        or has_control_characters(value)
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


def year_in_range(form: Form, field: Field) -> None:
    value = field.data
    if isinstance(value, date | datetime) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _l("Choose a date between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR)
        )


_TEXT_RULES = {single_line_text, multi_line_text}


def _rules_for(field: Field, *, bound_years: bool) -> list[Any]:
    if any(rule in _TEXT_RULES for rule in field.validators):
        return []  # the form chose the rule for this field itself
    if isinstance(field, TextAreaField):
        return [multi_line_text]
    if isinstance(field, StringField):  # also URL, email, password and hidden fields
        return [single_line_text]
    if isinstance(field, DateField | DateTimeField) and bound_years:
        return [year_in_range]
    return []


@functools.cache
def _wtforms_catalogue(locale: str) -> support.Translations | support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class SafeMeta(DefaultMeta):
    # A form whose service bounds its dates with a rule of its own (and a message that says more)
    # sets this to False in its Meta.
    bound_years = True

    def get_translations(self, form: Form) -> Any:
        # WTForms' own messages in the page's language. Flask-WTF reads and parses the catalogue
        # file again on every request that builds a form; the catalogues never change while the
        # process runs, so one parse per language serves them all.
        return _wtforms_catalogue(str(get_locale() or "en")) if has_request_context() else None

    def bind_field(self, form: Form, unbound_field: Any, options: dict[str, Any]) -> Field:
        field: Field = super().bind_field(form, unbound_field, options)
        rules = _rules_for(field, bound_years=self.bound_years)
        if rules:
            # Before the field's own validators: Optional() and DataRequired() stop the chain, and
            # an empty value has nothing to refuse anyway.
            field.validators = [*rules, *field.validators]
        return field


class BaseForm(FlaskForm):
    """Every page form: CSRF from Flask-WTF, and the shared rules for text and dates.

    Each one built during a request is remembered, so the page's error summary (base.html) can list
    the errors of whichever of them failed without every view and template passing them along.
    """

    Meta = SafeMeta

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_request_context():
            g.setdefault("page_forms", []).append(self)


class BaseSubForm(Form):
    """Forms nested in a page form (FormField), with the same shared rules."""

    Meta = SafeMeta


def text_errors(
    *, one_line: dict[str, str | None] | None = None, multiline: dict[str, str | None] | None = None
) -> dict[str, str]:
    """The same rules for services (CLI, API, forms alike): field name -> message, for RuleError."""
    errors: dict[str, str] = {}
    for name, value in (one_line or {}).items():
        if has_control_characters(value):
            errors[name] = str(_l("Remove the control characters (line breaks, tabs) from this field."))
    for name, value in (multiline or {}).items():
        if has_control_characters(value, multiline=True):
            errors[name] = str(_l("Remove the control characters from this field."))
    return errors


def date_errors(values: dict[str, date | datetime | None]) -> dict[str, str]:
    wrong = [
        name
        for name, value in values.items()
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR
    ]
    if not wrong:  # no message to translate: the locale is not looked up (and cached) before a request
        return {}
    message = str(_l("Choose a date between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR))
    return dict.fromkeys(wrong, message)


def valid_origins(form: Form, field: Field) -> None:
    """A list of web origins, one a line; the field keeps them normalised."""
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


def no_control_characters(form: Form, field: Field) -> None:
    """Typed text keeps its line breaks and tabs, never other control characters (the rule
    ``BaseForm`` gives every text area; for lists of values, as multiple-choice answers, too)."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(value, str) and has_control_characters(value, multiline=True) for value in values):
        raise ValidationError(_l("Remove the invisible control characters from this text."))


@dataclass(frozen=True)
class ErrorEntry:
    """One line of an error summary: the message, the field's label, and the id of the control a
    link should move to (None for a field nobody can see, such as an expired CSRF token)."""

    label: str
    message: str
    target: str | None


def _hidden(field: Field) -> bool:
    # The sign-up form's honeypot ("website") is hidden from people on purpose: a link to it would
    # lead nowhere they can see.
    return isinstance(field, HiddenField) or field.type == "CSRFTokenField" or field.short_name == "website"


def _entries(fields: Iterator[Field] | Form, prefix: str = "") -> Iterator[ErrorEntry]:
    for field in fields:
        label = f"{prefix}{field.label.text}"
        if isinstance(field, FieldList):
            for number, entry in enumerate(field.entries, start=1):
                yield from _entries(iter([entry]), f"{label} {number}: ")
            continue
        if isinstance(field, FormField):
            yield from _entries(field.form, prefix)
            continue
        if not field.errors:
            continue
        # A group of radio buttons or checkboxes (a ListWidget) has no control of its own id: its
        # first option does. A plain <select multiple> keeps the field's id.
        target = f"{field.id}-0" if isinstance(field.widget, ListWidget) else field.id
        for message in field.errors:
            yield ErrorEntry(str(label), str(message), None if _hidden(field) else target)


def error_entries(form: Form) -> list[ErrorEntry]:
    """Every error of ``form`` in the order of its fields, then the form's own (``form_errors``)."""
    entries = list(_entries(form))
    entries += [ErrorEntry("", str(message), None) for message in getattr(form, "form_errors", [])]
    return entries


def failed_page_forms() -> list[Form]:
    """The forms built during this request that carry errors, in the order they were built."""
    if not has_request_context():
        return []
    return [form for form in g.get("page_forms", []) if error_entries(form)]
