"""Organizer pages: the webinars one manages, their forms and their registrations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from .. import topics
from ..database import MAX_ID
from ..extensions import db
from ..forms import apply_rule_error
from ..massmail import service as massmail
from ..massmail.forms import ReviewForm
from ..models import Audience, Broadcast, Event, EventStatus, MailKind, Registration, RegistrationStatus
from ..permissions import Capability, event_for, events_visible_to, part_of, require_sign_in
from ..privacy import service as privacy
from ..questions import service as questions
from ..registrations import export, listing
from ..registrations import service as registration_service
from ..registrations.forms import AddPersonForm, DecisionForm
from ..rules import RuleError
from ..security import email_preview_policy
from ..text import render_markdown
from ..timefmt import timezone_names
from ..urls import embed_snippet
from . import queries, service
from .forms import EventForm, TopicListForm, offer_languages, offer_topics

bp = Blueprint("manage", __name__, url_prefix="/manage")


require_sign_in(bp)


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    query = (
        events_visible_to(current_user)
        .options(selectinload(Event.series))  # each row names its series and number
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    events = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    counts = registration_service.status_counts([event.id for event in events.items])
    drafts = sum(1 for event in events.items if event.status == EventStatus.DRAFT)
    return render_template(
        "manage/dashboard.html", events=events, counts=counts, drafts=drafts, action_form=FlaskForm()
    )


@bp.route("/webinars/publish", methods=["POST"])
def publish_drafts() -> ResponseReturnValue:
    """Publish several drafts at once (the ticked ones, or every draft on the page)."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    field = "page_draft_ids" if request.form.get("all_drafts") else "event_ids"
    wanted = [int(value) for value in request.form.getlist(field) if value.isdigit()][
        : current_app.config["PER_PAGE"]
    ]
    if not wanted:
        flash(_("Select the drafts to publish."), "error")
        return redirect(url_for("manage.dashboard"))
    published = service.publish_many(current_user, wanted)
    flash(
        ngettext("%(num)s webinar published.", "%(num)s webinars published.", len(published)),
        "success",
    )
    return redirect(url_for("manage.dashboard"))


@bp.route("/topics", methods=["GET", "POST"])
def topics_list() -> ResponseReturnValue:
    """The administrator's list of suggested topics (offered as checkboxes in webinar forms)."""
    if not current_user.is_admin:
        abort(404)
    form = TopicListForm()
    if request.method == "GET":
        form.topics.data = topics.as_text(topics.suggested())
    elif form.validate_on_submit():
        try:
            wanted = (
                topics.sdg_list() if form.load_sdgs.data else topics.parse_suggested(form.topics.data or "")
            )
        except topics.TopicListError as error:
            form.topics.errors = [*form.topics.errors, error.message]
        else:
            topics.set_suggested(wanted)
            flash(_("Saved."), "success")
            return redirect(url_for("manage.topics_list"))
    return render_template("manage/topics.html", form=form)


def _offer_series(form: EventForm) -> None:
    form.series.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(series_id, title) for series_id, title in queries.series_choices(current_user)
    ]


def _render_form(
    form: EventForm,
    event: Event | None = None,
    source: Event | None = None,
    *,
    review: service.UpdateReview | None = None,
    change: str = "",
) -> str:
    return render_template(
        "manage/event_form.html",
        form=form,
        event=event,
        source=source,
        timezones=timezone_names(),
        review=review,
        send_languages=review.languages if review else [],
        send_language=review.language if review else "en",
        rendered=review.rendered if review else None,
        total=review.total if review else 0,
        language_name=massmail.language_name,
        switch_buttons=True,
        html_url=url_for(
            "manage.update_preview", event_id=event.id, change=change, email_lang=review.language
        )
        if review and event
        else "",
    )


@bp.route("/webinars/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    form = EventForm()
    _offer_series(form)
    source = _duplicated(form)
    if request.method == "GET" and source is not None:
        form.fill_from_data(service.duplicate_data(source))
        form.copy_from.data = str(source.id)
    offer_topics(form)
    offer_languages(form.language, service.content_language_for(form.series.data or None))
    if request.method == "GET" and not form.timezone.data:
        form.timezone.data = "UTC"
    if form.validate_on_submit():
        try:
            event = service.create_event(current_user, form.to_data(), copied_from=source)
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Draft saved. Publish it when you are ready."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _render_form(form, source=source)


def _duplicated(form: EventForm) -> Event | None:
    """The webinar being duplicated ("make #17 from #16"), if the organizer may manage it."""
    value = request.args.get("from") if request.method == "GET" else form.copy_from.data
    # isdigit() alone accepts superscripts ("¹") that int() refuses: ASCII digits only.
    if not value or not (str(value).isascii() and str(value).isdigit()) or len(str(value)) > 12:
        return None
    return event_for(int(value), Capability.VIEW)


@bp.route("/webinars/<int:event_id>")
def event(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    counts = registration_service.status_counts([event.id])[event.id]
    attended = registration_service.attended_count(event)
    return render_template(
        "manage/event.html",
        event=event,
        counts=counts,
        embed_snippet=embed_snippet(event.slug),
        attended=attended,
        description=render_markdown(event.description_md),
        action_form=FlaskForm(),
    )


@bp.route("/webinars/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int) -> ResponseReturnValue:
    """Saving a change that sends an update first shows that update (per language, with a test to
    oneself); the second save, "Save and send the update", is the confirmation."""
    event = event_for(event_id, Capability.EDIT)
    if event.is_archive_entry:
        return redirect(url_for("archive_manage.edit_entry", event_id=event.id))
    form = EventForm()
    form.has_cover = event.cover_id is not None
    _offer_series(form)
    offer_topics(form)
    if request.method == "GET":
        form.fill_from(event)
    offer_languages(form.language, event.language)
    if request.method == "POST" and form.validate_on_submit():
        data = form.to_data()
        step = request.form.get("notify", "")
        try:
            if step != "confirm":
                review = service.review_update(
                    event,
                    data,
                    (request.form.get("preview_lang") or request.form.get("shown_lang", ""))[:8],
                    test_to=current_user if step == "test" else None,
                )
                if review is not None:
                    if step == "test":
                        flash(
                            _(
                                "A test is on its way to %(email)s. The change is not saved yet.",
                                email=current_user.email,
                            ),
                            "success",
                        )
                    return _render_form(form, event, review=review, change=_change_token(data))
            notified = service.update_event(event, data)
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            if notified:
                flash(_("Saved. Confirmed attendees will receive the updated invitation."), "success")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _render_form(form, event)


# What the update preview's frame needs to apply the unsaved change again: the fields that make an
# update, signed so the frame's URL cannot be used to render anything else.
_PREVIEWED = ("title", "starts_at", "duration_minutes", "join_url", "timezone")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="webinars-update-preview")


def _change_token(data: service.EventData) -> str:
    values = {name: getattr(data, name) for name in _PREVIEWED}
    values["starts_at"] = data.starts_at.isoformat()
    return str(_serializer().dumps(values))


@bp.route("/webinars/<int:event_id>/update-preview.html")
@email_preview_policy
def update_preview(event_id: int) -> ResponseReturnValue:
    """The HTML of the update an unsaved change would send, for the edit page's sandboxed frame."""
    event = event_for(event_id, Capability.EDIT)
    try:
        values = _serializer().loads(request.args.get("change", ""))
        values["starts_at"] = datetime.fromisoformat(values["starts_at"])
        data = replace(service.EventData.from_event(event), **{name: values[name] for name in _PREVIEWED})
        review = service.review_update(event, data, request.args.get("email_lang", "")[:8])
    except (BadSignature, KeyError, TypeError, ValueError, RuleError):
        abort(400)  # only the edit page's own, signed link names a change
    if review is None:
        abort(400)
    return Response(review.rendered["body_html"], mimetype="text/html")


def _action(
    event_id: int, capability: Capability, action: Callable[[Event], None], done: str
) -> ResponseReturnValue:
    event = event_for(event_id, capability)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        action(event)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
        return redirect(url_for("manage.event", event_id=event_id))
    flash(done, "success")
    if action is service.delete_draft:
        return redirect(url_for("manage.dashboard"))
    return redirect(url_for("manage.event", event_id=event_id))


@bp.route("/webinars/<int:event_id>/publish", methods=["POST"])
def publish(event_id: int) -> ResponseReturnValue:
    return _action(event_id, Capability.EDIT, service.publish, _("Published: registration is open."))


@bp.route("/webinars/<int:event_id>/unpublish", methods=["POST"])
def unpublish(event_id: int) -> ResponseReturnValue:
    return _action(
        event_id,
        Capability.EDIT,
        service.unpublish,
        _("Unpublished: the page is hidden and registration closed."),
    )


@bp.route("/webinars/<int:event_id>/cancel", methods=["POST"])
def cancel(event_id: int) -> ResponseReturnValue:
    """Cancel at once when nobody is to be told; otherwise show the notice first (its confirmation,
    confirm_cancel, cancels)."""
    event = event_for(event_id, Capability.ADMINISTER)
    if not FlaskForm().validate_on_submit():
        abort(400)
    notice = service.cancellation_notice(event, current_user)
    if notice is not None:
        return redirect(url_for("broadcasts.review", event_id=event.id, broadcast_id=notice.id))
    return _action(event_id, Capability.ADMINISTER, service.cancel_event, _("Cancelled."))


@bp.route("/webinars/<int:event_id>/cancel/<int:broadcast_id>", methods=["POST"])
def confirm_cancel(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.ADMINISTER)
    notice = part_of(event, Broadcast, broadcast_id)
    if notice.kind != MailKind.EVENT_CANCELLED:
        abort(400)  # a message is confirmed by sending it (broadcasts.send)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.cancel_event(event, notice, expected=form.expected.data)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
        return redirect(url_for("broadcasts.review", event_id=event.id, broadcast_id=notice.id))
    flash(_("Cancelled: attendees are being notified."), "success")
    return redirect(url_for("manage.event", event_id=event.id))


@bp.route("/webinars/<int:event_id>/delete", methods=["POST"])
def delete(event_id: int) -> ResponseReturnValue:
    return _action(event_id, Capability.ADMINISTER, service.delete_draft, _("Draft deleted."))


@bp.route("/webinars/<int:event_id>/registrations")
def registrations(event_id: int) -> ResponseReturnValue:
    return _registrations_page(event_for(event_id, Capability.VIEW), AddPersonForm(formdata=None))


def _registrations_page(event: Event, add_form: AddPersonForm) -> str:
    add_form.offer_email_languages(event.language)
    wanted = listing.ListFilter.from_args(request.args)
    page = db.paginate(
        listing.with_answers(listing.matching(event, wanted)),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    counts = registration_service.status_counts([event.id])[event.id]
    locale = str(get_locale() or "en")
    return render_template(
        "manage/registrations.html",
        event=event,
        page=page,
        wanted=wanted,
        status=wanted.status,
        counts=counts,
        statuses=list(RegistrationStatus),
        sort_keys=list(listing.SortKey),
        filter_questions=[
            (question, listing.answer_choices(question, locale))
            for question in listing.choice_questions(event)
        ],
        action_form=FlaskForm(),
        decision_form=DecisionForm(),
        add_form=add_form,
        columns=questions.answer_columns(event),
        answers_of=questions.answers_by_question,
        display=questions.display_value,
        locale=locale,
    )


_BULK_DONE = {
    "approve": lambda n: ngettext("%(num)s person approved.", "%(num)s people approved.", n),
    "decline": lambda n: ngettext("%(num)s person declined.", "%(num)s people declined.", n),
    "cancel": lambda n: ngettext("%(num)s registration cancelled.", "%(num)s registrations cancelled.", n),
    "promote": lambda n: ngettext(
        "%(num)s person moved from the waitlist to a seat.",
        "%(num)s people moved from the waitlist to a seat.",
        n,
    ),
}
# One bulk action changes at most this many registrations (every one of them may send an email).
BULK_MAX = 10_000


@bp.route("/webinars/<int:event_id>/registrations/decide", methods=["POST"])
def decide(event_id: int) -> ResponseReturnValue:
    """A bulk action on the ticked people, or on everyone the list's filters match (or on the one
    person whose own button was pressed): approve, decline, cancel, move from the waitlist."""
    event = event_for(event_id, Capability.EDIT)
    form = DecisionForm()
    wanted = listing.ListFilter.from_args(request.args)
    back_args: dict[str, Any] = {"event_id": event.id, **wanted.as_args()}
    back = url_for("manage.registrations", **back_args)
    if not form.validate_on_submit():
        for message in form.reason.errors:
            flash(message, "error")
        return redirect(back)
    decision = request.form.get("decision", "")
    if request.form.get("scope") == "matching":
        chosen = listing.matching_ids(event, wanted)
    else:
        ticked = [i for i in request.form.getlist("registration", type=int) if 0 < i <= MAX_ID]
        chosen = listing.matching_ids(event, listing.ListFilter(), ticked[:BULK_MAX]) if ticked else []
    if (decision not in _BULK_DONE and decision != "message") or not chosen:
        flash(_("Tick at least one person, then choose an action."), "error")
        return redirect(back)
    chosen = chosen[:BULK_MAX]
    if decision == "message":
        # The composer, restricted to these people; the message goes through the same preview,
        # test and confirmation as any other.
        draft = massmail.draft(
            event, current_user, kind=MailKind.MESSAGE, audience=Audience.SELECTED, registration_ids=chosen
        )
        return redirect(url_for("broadcasts.new_message", event_id=event.id, draft=draft.id))
    if decision == "cancel":
        changed = registration_service.cancel_many(event, chosen)
    elif decision == "promote":
        promotion = registration_service.promote_many(event, chosen)
        changed = promotion.moved
        if promotion.no_seat:
            flash(
                ngettext(
                    "%(num)s person stays on the waitlist: no seat is free. Raise the capacity to seat them.",
                    "%(num)s people stay on the waitlist: no seat is free. Raise the capacity to seat them.",
                    promotion.no_seat,
                ),
                "error",
            )
    else:
        changed = registration_service.decide(
            event, chosen, approve_them=decision == "approve", reason=form.reason.data or ""
        )
    flash(_BULK_DONE[decision](changed), "success")
    return redirect(back)


@bp.route("/webinars/<int:event_id>/registrations/add", methods=["POST"])
def add_person(event_id: int) -> ResponseReturnValue:
    """Add someone by hand; the form sits on the list page, so its errors are shown there."""
    event = event_for(event_id, Capability.EDIT)
    form = AddPersonForm()
    form.offer_email_languages(event.language)
    if not form.validate_on_submit():
        return _registrations_page(event, form)
    try:
        registration = registration_service.add_by_hand(
            event,
            name=form.name.data or "",
            email=form.email.data or "",
            organisation=form.organisation.data or "",
            send_invitation=form.send_invitation.data,
            locale=form.language.data or str(get_locale() or "en"),
        )
    except RuleError as error:
        apply_rule_error(form, error)
        return _registrations_page(event, form)
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(_("%(name)s has a seat.", name=registration.name), "success")
    else:
        flash(_("No seat is free: %(name)s is on the waitlist.", name=registration.name), "success")
    return redirect(url_for("manage.registrations", event_id=event.id, q=registration.email))


@bp.route("/webinars/<int:event_id>/registrations/<int:registration_id>/erase", methods=["POST"])
def erase(event_id: int, registration_id: int) -> ResponseReturnValue:
    """An organizer erases one person's personal data (for example after a request by email)."""
    event = event_for(event_id, Capability.ADMINISTER)
    if not FlaskForm().validate_on_submit():
        abort(400)
    registration = part_of(event, Registration, registration_id)
    privacy.erase(registration)
    flash(_("The person's data was erased; their seat, if they had one, went to the waitlist."), "success")
    return redirect(url_for("manage.registrations", event_id=event.id))


@bp.route("/webinars/<int:event_id>/registrations.csv")
def registrations_csv(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    export.note_export(event, "CSV")
    return Response(
        export.csv_text(event, wanted=listing.ListFilter.from_args(request.args)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{export.filename(event)}"'},
    )


@bp.route("/webinars/<int:event_id>/registrations.xlsx")
def registrations_xlsx(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    export.note_export(event, "XLSX")
    return Response(
        export.xlsx_bytes(event, listing.ListFilter.from_args(request.args)),
        mimetype=export.XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{export.filename(event, "xlsx")}"'},
    )
