"""Registration questions: kept per webinar, copied to the next one, answered on the public form.

Answers carry their own copy of the question's label, and choices are stored as the text the organizer
wrote in the first language (countries as ISO codes): a question edited or removed later never changes
what someone answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import Answer, Event, Question, QuestionKind, Registration
from ..rules import RuleError
from ..text import has_control_characters

KIND_LABELS = {
    QuestionKind.SHORT_TEXT: _l("Short text"),
    QuestionKind.LONG_TEXT: _l("Long text"),
    QuestionKind.SINGLE_CHOICE: _l("Single choice"),
    QuestionKind.MULTIPLE_CHOICE: _l("Multiple choice"),
    QuestionKind.CHECKBOX: _l("Checkbox"),
    QuestionKind.COUNTRY: _l("Country"),
    QuestionKind.REFERRAL: _l("How did you hear about us?"),
}
# Kinds whose choices the organizer writes; "how did you hear about us" offers the ones below unless
# the organizer writes their own.
KINDS_WITH_OPTIONS = {QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE, QuestionKind.REFERRAL}
REFERRAL_OPTIONS = {
    "Email or newsletter": _l("Email or newsletter"),
    "Social media": _l("Social media"),
    "A colleague or friend": _l("A colleague or friend"),
    "A partner organisation": _l("A partner organisation"),
    "A search engine": _l("A search engine"),
    "Other": _l("Other"),
}
# Babel's territories include groupings and reserved codes that are not countries one lives in.
_NOT_COUNTRIES = {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 5000
MAX_OPTIONS = 100


@dataclass
class QuestionData:
    kind: str
    label: str
    label_es: str = ""
    label_pt: str = ""
    options: str = ""
    options_es: str = ""
    options_pt: str = ""
    required: bool = False


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def label_for(question: Question, locale: str) -> str:
    translated = {"es": question.label_es, "pt": question.label_pt}.get(locale, "")
    return translated or question.label


def country_names(locale: str) -> Mapping[str, str]:
    """ISO code -> the country's name in ``locale``, sorted by name."""
    return _country_names(locale)


# Read-only and asked for once per row of a 10,000-row export: worth keeping, one entry per language.
@cache
def _country_names(locale: str) -> MappingProxyType[str, str]:
    territories = Locale.parse(locale).territories
    countries = {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }
    return MappingProxyType(dict(sorted(countries.items(), key=lambda item: item[1].casefold())))


def options_for(question: Question, locale: str) -> list[tuple[str, str]]:
    """(stored value, text shown in ``locale``) for each choice of the question."""
    if question.kind == QuestionKind.COUNTRY:
        return list(country_names(locale).items())
    values = lines(question.options)
    if question.kind == QuestionKind.REFERRAL and not values:
        return [(value, str(label)) for value, label in REFERRAL_OPTIONS.items()]
    translated = lines({"es": question.options_es, "pt": question.options_pt}.get(locale, ""))
    if len(translated) != len(values):  # a translation that does not line up is not used at all
        translated = values
    return list(zip(values, translated, strict=True))


def display_value(answer: Answer, locale: str = "en") -> str:
    """An answer as people read it: country names, yes/no, several choices joined."""
    if answer.kind == QuestionKind.CHECKBOX:
        return str(_("Yes") if answer.value else _("No"))
    if answer.kind == QuestionKind.COUNTRY:
        return country_names(locale).get(answer.value, answer.value)
    if answer.kind == QuestionKind.REFERRAL and answer.value in REFERRAL_OPTIONS:
        return str(REFERRAL_OPTIONS[answer.value])
    return "; ".join(lines(answer.value)) if answer.kind == QuestionKind.MULTIPLE_CHOICE else answer.value


def _check(data: QuestionData) -> None:
    errors: dict[str, str] = {}
    if data.kind not in set(QuestionKind):
        errors["kind"] = str(_l("Choose a kind of question from the list."))
    options = lines(data.options)
    if data.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE) and len(options) < 2:
        errors["options"] = str(_l("Write at least two choices, one per line."))
    elif len(options) > MAX_OPTIONS:
        errors["options"] = str(_l("Write at most %(count)s choices.", count=MAX_OPTIONS))
    elif len(set(options)) != len(options):
        errors["options"] = str(_l("Each choice must be different."))
    for name in ("options_es", "options_pt"):
        translated = lines(getattr(data, name))
        if translated and len(translated) != len(options):
            errors[name] = str(_l("Write one translation per choice, in the same order."))
    if errors:
        raise RuleError(errors)


def _apply(question: Question, data: QuestionData) -> None:
    question.kind = QuestionKind(data.kind)
    question.label = " ".join(data.label.split())
    question.label_es = " ".join(data.label_es.split())
    question.label_pt = " ".join(data.label_pt.split())
    keeps_options = data.kind in KINDS_WITH_OPTIONS
    question.options = "\n".join(lines(data.options)) if keeps_options else ""
    question.options_es = "\n".join(lines(data.options_es)) if keeps_options else ""
    question.options_pt = "\n".join(lines(data.options_pt)) if keeps_options else ""
    question.required = data.required


def add_question(event: Event, data: QuestionData) -> Question:
    """Add a question at the end of the form. Commits."""
    with writing():
        _check(data)
        question = Question(event_id=event.id, position=_next_position(event))
        _apply(question, data)
        db.session.add(question)
        db.session.commit()
    return question


def _next_position(event: Event) -> int:
    positions = [question.position for question in event.questions]
    return max(positions, default=-1) + 1


def update_question(question: Question, data: QuestionData) -> None:
    """Change a question. Answers already given keep the label and choices they were given with."""
    with writing():
        _check(data)
        _apply(question, data)
        db.session.commit()


def remove_question(question: Question) -> None:
    """Take a question off the form; its answers stay, with the registrations and in the export."""
    with writing():
        question.removed_at = question.removed_at or clock.now()
        db.session.commit()


def move_question(question: Question, step: int) -> None:
    """Swap the question with its neighbour above (step -1) or below (step +1). Commits."""
    with writing():
        ordered = question.event.active_questions
        for position, each in enumerate(ordered):
            each.position = position
        index = ordered.index(question)
        other = index + step
        if 0 <= other < len(ordered):
            ordered[index].position, ordered[other].position = ordered[other].position, index
        db.session.commit()


def copy_questions(source: Event, target: Event) -> None:
    """Give ``target`` the questions ``source`` asks now. Does not commit."""
    for position, question in enumerate(source.active_questions):
        target.questions.append(
            Question(
                position=position,
                kind=question.kind,
                label=question.label,
                label_es=question.label_es,
                label_pt=question.label_pt,
                options=question.options,
                options_es=question.options_es,
                options_pt=question.options_pt,
                required=question.required,
            )
        )


def previous_in_series(event: Event) -> Event | None:
    """The series' webinar before this one (by number, else by date) that asks questions."""
    if event.series_id is None:
        return None
    query = select(Event).where(
        Event.series_id == event.series_id, Event.id != event.id, Event.questions.any()
    )
    if event.number is not None:
        query = query.where(Event.number < event.number).order_by(Event.number.desc())
    else:
        query = query.order_by(Event.starts_at.desc())
    return db.session.scalars(query.limit(1)).first()


def record_answers(event: Event, registration: Registration, answers: dict[int, str]) -> None:
    """Store the answers given with a sign-up (question id -> value). Does not commit."""
    if not any(answers.values()):
        return
    questions = {question.id: question for question in event.active_questions}
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None or not value:
            continue
        registration.answers.append(
            Answer(question_id=question.id, question_label=question.label, kind=question.kind, value=value)
        )


def _checked_answer(question: Question, value: object) -> str:
    """The stored form of one answer given as data (the API); ValueError with the message."""
    kind = question.kind
    chosen: list[str]
    if kind == QuestionKind.CHECKBOX:
        if value in (None, False, ""):
            if question.required:
                raise ValueError(_("Tick this box to continue."))
            return ""
        if value is not True:
            raise ValueError(_("Answer true or false."))
        return "yes"
    if kind == QuestionKind.MULTIPLE_CHOICE:
        given = [] if value is None else value
        if not isinstance(given, list) or not all(isinstance(item, str) for item in given):
            raise ValueError(_("Give a list of choices."))
        chosen = [str(item) for item in given if item]
    elif value is None:
        chosen = []
    elif not isinstance(value, str):
        raise ValueError(_("Give the answer as text."))
    else:
        chosen = [value] if value.strip() else []
    if not chosen:
        if question.required:
            raise ValueError(_("This field is required."))
        return ""
    if any(has_control_characters(item, multiline=True) for item in chosen):
        raise ValueError(_("Remove the invisible control characters from this text."))
    if kind == QuestionKind.SHORT_TEXT:
        if len(chosen[0]) > SHORT_TEXT_MAX:
            raise ValueError(_("At most %(count)s characters.", count=SHORT_TEXT_MAX))
        return " ".join(chosen[0].split())
    if kind == QuestionKind.LONG_TEXT:
        if len(chosen[0]) > LONG_TEXT_MAX:
            raise ValueError(_("At most %(count)s characters.", count=LONG_TEXT_MAX))
        return chosen[0].strip()
    allowed = {stored for stored, _text in options_for(question, "en")}
    if any(item not in allowed for item in chosen):
        raise ValueError(_("Choose from the list."))
    return "\n".join(chosen)


def checked_answers(event: Event, given: Mapping[str, object]) -> dict[int, str]:
    """Answers sent as data (the API: question id -> text, true/false for a checkbox, a list for
    several choices), checked by the rules the sign-up form applies: required questions, choices
    from the list, lengths, no control characters. Raises RuleError on ``answers.<id>``."""
    questions = {str(question.id): question for question in event.active_questions}
    errors: dict[str, str] = {}
    answers: dict[int, str] = {}
    for key in given:
        if key not in questions:
            errors[f"answers.{key}"] = _("This webinar asks no such question.")
    for key, question in questions.items():
        try:
            value = _checked_answer(question, given.get(key))
        except ValueError as error:
            errors[f"answers.{key}"] = str(error)
        else:
            if value:
                answers[question.id] = value
    if errors:
        raise RuleError(errors)
    return answers


def answer_columns(event: Event) -> list[Question]:
    """The columns of the answers table: every question the webinar asks or once asked (removed ones
    keep their answers), in form order."""
    return list(event.questions)


def answers_by_question(registration: Registration) -> dict[int | None, Answer]:
    return {answer.question_id: answer for answer in registration.answers}
