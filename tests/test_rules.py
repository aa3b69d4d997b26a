"""One service contract: RuleError (field -> messages), put on a form by one helper."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

from webinars.forms import apply_rule_error
from webinars.rules import RuleError


class _ScheduleLikeForm(FlaskForm):
    title = StringField()
    first_date = StringField()


def test_a_rule_error_keeps_every_message_per_field():
    error = RuleError({"title": "Give it a title.", "slug": ["Too long.", "Already used."]})
    assert error.errors == {"title": ["Give it a title."], "slug": ["Too long.", "Already used."]}
    assert error.messages == ["Give it a title.", "Too long.", "Already used."]
    assert RuleError.on("status", "Cancelled.").errors == {"status": ["Cancelled."]}


def test_messages_land_beside_their_field_renamed_or_on_the_fallback(app):
    with app.test_request_context(method="POST"):
        form = _ScheduleLikeForm(meta={"csrf": False})
        form.validate()
        error = RuleError({"start_date": "In the past.", "status": "Cancelled.", "title": "Empty."})
        apply_rule_error(form, error, renamed={"start_date": "first_date"})
        assert form.first_date.errors == ["In the past."]
        assert form.title.errors == ["Cancelled.", "Empty."], "a field the form lacks goes to the fallback"


def test_without_a_fallback_field_the_message_is_the_forms_own(app):
    with app.test_request_context(method="POST"):
        form = _ScheduleLikeForm(meta={"csrf": False})
        form.validate()
        apply_rule_error(form, RuleError.on("owners", "Choose one."), fallback="missing")
        assert form.form_errors == ["Choose one."]
