"""The organizer's page for a webinar's registration questions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from ..database import get_by_id
from ..events.manage import apply_rule_errors, owned_event
from ..events.service import RuleError
from ..models import Event, Question
from . import service
from .forms import QuestionForm
from .service import KIND_LABELS

bp = Blueprint("questions", __name__, url_prefix="/manage/webinars/<int:event_id>/questions")


@bp.before_request
@login_required
def _require_login() -> None:
    return None


def _question(event: Event, question_id: int) -> Question:
    question = get_by_id(Question, question_id)
    if question is None or question.event_id != event.id or question.removed_at is not None:
        abort(404)
    return question


def _page(event: Event, form: QuestionForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "questions/list.html",
            event=event,
            form=form,
            kinds=KIND_LABELS,
            action_form=FlaskForm(),
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
def index(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            service.add_question(event, form.to_data())
        except RuleError as error:
            apply_rule_errors(form, error)
        else:
            flash(_("Question added."), "success")
            return redirect(url_for("questions.index", event_id=event.id))
    return _page(event, form, 400 if form.errors else 200)


@bp.route("/<int:question_id>/edit", methods=["GET", "POST"])
def edit(event_id: int, question_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    question = _question(event, question_id)
    form = QuestionForm()
    if request.method == "GET":
        form.fill_from(question)
    elif form.validate_on_submit():
        try:
            service.update_question(question, form.to_data())
        except RuleError as error:
            apply_rule_errors(form, error)
        else:
            flash(_("Question saved. Answers already given stay as they were."), "success")
            return redirect(url_for("questions.index", event_id=event.id))
    return render_template("questions/edit.html", event=event, question=question, form=form)


@bp.route("/<int:question_id>/<any(up, down):direction>", methods=["POST"])
def move(event_id: int, question_id: int, direction: str) -> ResponseReturnValue:
    event = owned_event(event_id)
    question = _question(event, question_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.move_question(question, -1 if direction == "up" else 1)
    return redirect(url_for("questions.index", event_id=event.id))


@bp.route("/<int:question_id>/remove", methods=["POST"])
def remove(event_id: int, question_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    question = _question(event, question_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.remove_question(question)
    flash(_("Question removed from the form. Answers already given are kept."), "success")
    return redirect(url_for("questions.index", event_id=event.id))
