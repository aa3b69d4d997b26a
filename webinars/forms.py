"""What every form in the app shares: how a service's RuleError lands on the form's fields."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from flask_wtf import FlaskForm

from .rules import RuleError

E = TypeVar("E", bound=StrEnum)


def apply_rule_error(
    form: FlaskForm, error: RuleError, *, renamed: Mapping[str, str] | None = None, fallback: str = "title"
) -> None:
    """Show each message beside its field.

    ``renamed`` maps a service's field name to this form's name for it (the schedule form calls the
    webinar's ``start_date`` ``first_date``). A message about a field the form does not have goes to
    ``fallback``, the field the eye starts from, or to the form's own errors when there is none.
    """
    renamed = renamed or {}
    for name, messages in error.errors.items():
        field = getattr(form, renamed.get(name, name), None) or getattr(form, fallback, None)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def enum_arg(enum: type[E], value: str | None) -> E | None:
    """A query-string value as a member of ``enum``; None when absent or not one of its values."""
    try:
        return enum(value) if value else None
    except ValueError:
        return None
