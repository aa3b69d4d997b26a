"""Series pages: the public list and page of each series, and the organizers' series and schedules."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from .. import languages, sharing
from ..events.forms import offer_languages, offer_topics
from ..events.queries import next_numbers, series_choices
from ..forms import apply_rule_error
from ..ical.links import subscribe_links
from ..models import Event, Series
from ..pagecache import cached_page
from ..permissions import Capability, require_sign_in, series_for
from ..rules import RuleError
from ..text import render_markdown
from ..timefmt import in_zone, timezone_names
from . import service
from .forms import ScheduleForm, SeriesForm

bp = Blueprint("series", __name__)
manage_bp = Blueprint("series_manage", __name__, url_prefix="/manage")


# --- public ----------------------------------------------------------------------------------------


@bp.route("/series")
@cached_page
def index() -> ResponseReturnValue:
    return render_template(
        "series/index.html",
        series_list=service.public_list(),
        subscribe=subscribe_links("calendar.site_feed"),
    )


@bp.route("/series/<slug>")
@cached_page
def detail(slug: str) -> ResponseReturnValue:
    series = service.by_slug(slug) or abort(404)
    upcoming, past = service.series_events(series)
    return render_template(
        "series/detail.html",
        card=sharing.series_card(series, _series_summary(series, upcoming)),
        json_ld=sharing.series_json_ld(series, upcoming + past),
        series=series,
        description=render_markdown(series.description_md),
        upcoming=upcoming,
        past=past,
        more_past=len(past) == service.PAST_ON_PAGE,
        subscribe=subscribe_links("calendar.series_feed", slug=series.slug),
    )


def _series_summary(series: Series, upcoming: list[Event]) -> str:
    """What a link preview says under the title: the next webinar, when there is one."""
    if upcoming:
        following = upcoming[0]
        return str(
            _(
                "Next: %(title)s, %(when)s",
                title=following.title,
                when=in_zone(following.starts_at, following.timezone),
            )
        )
    return render_markdown(series.description_md).striptags()[:300] or _("A series of webinars")


# --- organizers ------------------------------------------------------------------------------------


require_sign_in(manage_bp)


# The webinar rules name the single webinar form's fields; the schedule form calls them otherwise.
_SCHEDULE_FIELDS = {"start_date": "first_date"}


@manage_bp.route("/series")
def series_list() -> ResponseReturnValue:
    return render_template("series/manage_list.html", rows=service.for_manage_list(current_user))


def _series_form(form: SeriesForm, series: Series | None = None) -> str:
    return render_template("series/form.html", form=form, series=series)


@manage_bp.route("/series/new", methods=["GET", "POST"])
def new_series() -> ResponseReturnValue:
    form = SeriesForm()
    offer_languages(form.language, languages.default_content_language())
    if form.validate_on_submit():
        try:
            series = service.create_series(current_user, form.to_data())
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Series created. Its page and calendar feed are public."), "success")
            return redirect(url_for("series_manage.series_list", _anchor=f"series-{series.id}"))
    return _series_form(form)


@manage_bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
def edit_series(series_id: int) -> ResponseReturnValue:
    # Owners and the rest of the team are changed on the series' team page, by its owners.
    series = series_for(series_id, Capability.EDIT)
    form = SeriesForm()
    form.has_cover = series.cover_id is not None
    if request.method == "GET":
        form.fill_from(series)
    offer_languages(form.language, series.language)
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.update_series(series, current_user, form.to_data())
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("series_manage.series_list", _anchor=f"series-{series.id}"))
    return _series_form(form, series)


def _offer_series(form: ScheduleForm) -> None:
    choices = series_choices(current_user)
    following = next_numbers([series_id for series_id, _title in choices])
    form.series.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(series_id, _("%(title)s (next: #%(number)s)", title=title, number=following[series_id]))
        for series_id, title in choices
    ]


@manage_bp.route("/webinars/schedule", methods=["GET", "POST"])
def schedule() -> ResponseReturnValue:
    """Several draft webinars at once, from a recurring pattern."""
    form = ScheduleForm()
    _offer_series(form)
    offer_topics(form)
    if request.method == "GET":
        form.timezone.data = form.timezone.data or "UTC"
        wanted = request.args.get("series", type=int)
        if wanted in {choice.value for choice in form.series.choices}:
            form.series.data = wanted
    plan = None
    if form.validate_on_submit():
        try:
            if form.create.data:
                data = form.to_data()
                created = service.create_schedule(current_user, data)
                if data.publish:
                    message = ngettext(
                        "%(num)s webinar created and published.",
                        "%(num)s webinars created and published.",
                        len(created),
                    )
                else:
                    message = ngettext(
                        "%(num)s draft webinar created. Review and publish it when ready.",
                        "%(num)s draft webinars created. Review them and publish them together when ready.",
                        len(created),
                    )
                flash(message, "success")
                return redirect(url_for("manage.dashboard"))
            plan = service.plan_schedule(current_user, form.to_data())
        except RuleError as error:
            apply_rule_error(form, error, renamed=_SCHEDULE_FIELDS)
    return render_template("series/schedule.html", form=form, plan=plan, timezones=timezone_names())
