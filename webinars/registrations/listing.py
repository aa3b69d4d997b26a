"""Finding registrations in a long list: search, filters and order, shared by the organizer's page,
its exports and its bulk actions, so what an organizer sees is exactly what they export or act on.

Every filter is a condition in SQL and the answers of a page are loaded in one more query, so a page
costs the same handful of statements for 30 registrations as for 10,000.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import CHOICE_KINDS, Answer, Event, Question, QuestionKind, Registration, RegistrationStatus
from ..questions.service import options_for

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SEARCH_MAX = 200
ANSWER_MAX = 300


class SortKey(StrEnum):
    REGISTERED = "registered"
    NAME = "name"
    EMAIL = "email"
    ORGANISATION = "organisation"
    STATUS = "status"


_SORT_COLUMNS = {
    SortKey.REGISTERED: Registration.created_at,
    SortKey.NAME: func.lower(Registration.name),
    SortKey.EMAIL: Registration.email,
    SortKey.ORGANISATION: func.lower(Registration.organisation),
    SortKey.STATUS: Registration.status,
}


@dataclass(frozen=True)
class ListFilter:
    """What the organizer asked the list for. Built from a query string: anything unknown, too long
    or hostile is dropped rather than refused, so a bookmarked or tampered URL still shows a list."""

    search: str = ""
    status: RegistrationStatus | None = None
    question_id: int | None = None
    answer: str = ""
    sort: SortKey = SortKey.REGISTERED
    descending: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListFilter:
        search = _clean(args.get("q", ""), SEARCH_MAX)
        status = args.get("status") or ""
        sort = args.get("sort") or ""
        # One parameter "question id:choice", so a single list of every question's choices can set it.
        question, _, answer = (args.get("answer") or "").partition(":")
        known_question = question.isdigit() and len(question) < 10
        return cls(
            search=search,
            status=RegistrationStatus(status) if status in set(RegistrationStatus) else None,
            question_id=int(question) if known_question else None,
            answer=_clean(answer, ANSWER_MAX) if known_question else "",
            sort=SortKey(sort) if sort in set(SortKey) else SortKey.REGISTERED,
            descending=args.get("dir") == "desc",
        )

    def as_args(self) -> dict[str, str]:
        """The query string that gives this filter back (for links, exports and forms)."""
        args = {
            "q": self.search,
            "status": self.status or "",
            "answer": f"{self.question_id}:{self.answer}" if self.question_id and self.answer else "",
            "sort": "" if self.sort == SortKey.REGISTERED else self.sort,
            "dir": "desc" if self.descending else "",
        }
        return {key: value for key, value in args.items() if value}

    @property
    def narrows(self) -> bool:
        return bool(self.search or self.status or (self.question_id and self.answer))


def _clean(value: str, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def choice_questions(event: Event) -> list[Question]:
    """The questions whose answers can filter the list: those answered by picking from a list."""
    return [question for question in event.questions if question.kind in CHOICE_KINDS]


def _answered(question_id: int, value: str) -> ColumnElement[bool]:
    # Several choices are stored one a line, so a choice matches a whole line, never part of one.
    stored = Answer.value
    return exists().where(
        Answer.registration_id == Registration.id,
        Answer.question_id == question_id,
        or_(
            stored == value,
            stored.startswith(value + "\n", autoescape=True),
            stored.endswith("\n" + value, autoescape=True),
            stored.contains("\n" + value + "\n", autoescape=True),
        ),
    )


def _checkbox_answer(question: Question, value: str) -> ColumnElement[bool]:
    given = exists().where(Answer.registration_id == Registration.id, Answer.question_id == question.id)
    return given if value == "yes" else ~given


def matching(event: Event, wanted: ListFilter) -> Select[Registration]:
    """The registrations of ``event`` that ``wanted`` describes, in its order (without loading)."""
    query = select(Registration).where(Registration.event_id == event.id)
    if wanted.status:
        query = query.where(Registration.status == wanted.status)
    if wanted.search:
        term = wanted.search.lower()
        query = query.where(
            or_(
                func.lower(Registration.name).contains(term, autoescape=True),
                Registration.email.contains(term, autoescape=True),  # stored lower-case
                func.lower(Registration.organisation).contains(term, autoescape=True),
            )
        )
    if wanted.question_id and wanted.answer:
        question = next((q for q in choice_questions(event) if q.id == wanted.question_id), None)
        if question is not None and question.kind == QuestionKind.CHECKBOX:
            query = query.where(_checkbox_answer(question, wanted.answer))
        elif question is not None:
            query = query.where(_answered(question.id, wanted.answer))
    column = _SORT_COLUMNS[wanted.sort]
    if wanted.descending:
        return query.order_by(column.desc(), Registration.id.desc())
    return query.order_by(column, Registration.id)


def with_answers(query: Select[Registration]) -> Select[Registration]:
    return query.options(selectinload(Registration.answers))


def matching_ids(event: Event, wanted: ListFilter, chosen: list[int] | None = None) -> list[int]:
    """The ids of the matching registrations (only those among ``chosen`` when given)."""
    query = matching(event, wanted).with_only_columns(Registration.id)
    if chosen is not None:
        query = query.where(Registration.id.in_(chosen))
    return list(db.session.scalars(query))


def answer_choices(question: Question, locale: str) -> list[tuple[str, str]]:
    """(stored value, text shown) to filter ``question`` by."""
    if question.kind == QuestionKind.CHECKBOX:
        return [("yes", _("Yes")), ("no", _("No"))]
    return options_for(question, locale)
