"""The archive's search box and filters (the /past page): a GET form read from the query string."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .. import topics
from ..extensions import db
from ..models import Event, Series, Tag, event_tag
from ..validators import BaseForm
from . import queries


class ArchiveFilterForm(BaseForm):
    """No CSRF token: the form only reads, and its URL is meant to be shared and bookmarked."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search titles, descriptions and speakers"), validators=[Optional(), Length(max=200)])
    series = SelectField(_l("Series"), default="", validate_choice=False)
    tag = SelectField(_l("Topic"), default="", validate_choice=False)

    def offer_choices(self) -> None:
        """Only the series and topics that have past webinars: every choice finds something."""
        past_ids = queries.past().with_only_columns(Event.id).order_by(None)
        series = db.session.execute(
            select(Series.slug, Series.title)
            .where(Series.id.in_(select(Event.series_id).where(Event.id.in_(past_ids))))
            .order_by(Series.title)
        )
        tags = topics.sort_naturally(
            list(
                db.session.scalars(
                    select(Tag).where(
                        Tag.id.in_(select(event_tag.c.tag_id).where(event_tag.c.event_id.in_(past_ids)))
                    )
                )
            )
        )
        self.series.choices = [SelectChoice("", _l("All series"))] + [
            SelectChoice(slug, title) for slug, title in series
        ]
        self.tag.choices = [SelectChoice("", _l("All topics"))] + [
            SelectChoice(tag.slug, topics.label(tag)) for tag in tags
        ]

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ArchiveFilterForm:
        form = cls(formdata=args)
        form.offer_choices()
        form.validate()
        return form

    @property
    def search(self) -> str:
        return "" if self.q.errors else (self.q.data or "").strip()

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.series.data or self.tag.data)

    def query(self) -> Select[tuple[Event]]:
        """The archive with this form's search and filters, series and topics loaded for the cards."""
        return queries.past(q=self.search, series=self.series.data or "", tag=self.tag.data or "").options(
            selectinload(Event.series), selectinload(Event.tags)
        )
