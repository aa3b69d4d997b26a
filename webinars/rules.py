"""The one error services raise when a rule refuses a change.

Services are shared by the web forms, the CLI and (soon) an API, so they speak in field names, not in
widgets or status codes: ``RuleError({"capacity": ["..."]})``. Each caller translates it once —
webinars.forms.apply_rule_error puts the messages beside the form's fields, the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class RuleError(Exception):
    """A change the rules refuse; ``errors`` maps field names to their messages (already translated).

    The field names are those of the service's input (EventData, SeriesData, ...), which the forms
    reuse; a rule that is about no single field uses a name no form has (``status``), and the form
    helper shows it at the top of the form.
    """

    def __init__(self, errors: Mapping[str, str | Iterable[str]]) -> None:
        self.errors: dict[str, list[str]] = {
            field: [messages] if isinstance(messages, str) else [str(m) for m in messages]
            for field, messages in errors.items()
        }
        super().__init__("; ".join(f"{field}: {' '.join(m)}" for field, m in self.errors.items()))

    @classmethod
    def on(cls, field: str, message: str) -> RuleError:
        """One message about one field."""
        return cls({field: [message]})

    @property
    def messages(self) -> list[str]:
        """Every message, in field order, for callers that show them without a form (flash, CLI)."""
        return [message for messages in self.errors.values() for message in messages]
