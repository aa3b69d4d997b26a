"""Administrators' view of outgoing mail: the relay's state, and failed mail retried site-wide."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..messages.service import period_in_zone
from . import outbox
from .forms import RetryFailedForm
from .health import delivery_health

bp = Blueprint("mail_admin", __name__, url_prefix="/manage/mail")


@bp.before_request
@login_required
def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.route("/")
def overview() -> ResponseReturnValue:
    return render_template("manage/mail.html", health=delivery_health(), form=RetryFailedForm(formdata=None))


@bp.route("/retry-failed", methods=["POST"])
def retry_failed() -> ResponseReturnValue:
    form = RetryFailedForm()
    if not form.validate_on_submit():
        return render_template("manage/mail.html", health=delivery_health(), form=form), 400
    since, until = period_in_zone("UTC", form.since.data, form.until.data)
    count = outbox.retry_failed(since=since, until=until)
    flash(_("%(count)s failed email(s) queued again.", count=count), "success")
    return redirect(url_for("mail_admin.overview"))
