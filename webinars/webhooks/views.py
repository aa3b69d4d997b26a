"""Organizer pages for webhook endpoints: a list per webinar and per series, and one page per
endpoint with its secret, its settings, a test button and its delivery log. EDIT is needed
throughout (webinars.permissions)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..extensions import db
from ..forms import apply_rule_error
from ..models import Event, Series, WebhookEndpoint
from ..permissions import Capability, event_for, require_sign_in, series_for, webhook_endpoint_for
from ..rules import RuleError
from . import service
from .forms import EVENT_LABELS, EndpointForm

bp = Blueprint("webhooks", __name__, url_prefix="/manage")
require_sign_in(bp)


def _list_page(target: Event | Series, form: EndpointForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "webhooks/list.html",
            target=target,
            is_series=isinstance(target, Series),
            endpoints=service.endpoints_of(target),
            form=form,
            labels=EVENT_LABELS,
        ),
        status,
    )


def _create(target: Event | Series) -> ResponseReturnValue:
    form = EndpointForm()
    if form.is_submitted():
        if form.validate():
            try:
                endpoint = service.create_endpoint(target, form.data_for_service(), current_user)
            except RuleError as error:
                apply_rule_error(form, error, fallback="url")
            else:
                flash(_("Endpoint added. Copy its signing secret into your receiver."), "success")
                return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id))
        return _list_page(target, form, 400)
    form.event_types.data = [kind.value for kind in service.SUBSCRIBABLE]
    return _list_page(target, form)


@bp.route("/webinars/<int:event_id>/webhooks", methods=["GET", "POST"])
def event_endpoints(event_id: int) -> ResponseReturnValue:
    return _create(event_for(event_id, Capability.EDIT))


@bp.route("/series/<int:series_id>/webhooks", methods=["GET", "POST"])
def series_endpoints(series_id: int) -> ResponseReturnValue:
    return _create(series_for(series_id, Capability.EDIT))


def _endpoint_page(endpoint: WebhookEndpoint, form: EndpointForm, status: int = 200) -> ResponseReturnValue:
    page = db.paginate(service.deliveries(endpoint), per_page=current_app.config["PER_PAGE"], error_out=False)
    return (
        render_template(
            "webhooks/endpoint.html",
            endpoint=endpoint,
            target=endpoint.event or endpoint.series,
            is_series=endpoint.series_id is not None,
            form=form,
            action_form=FlaskForm(),
            page=page,
            secrets=service.secrets_in_use(endpoint),
        ),
        status,
    )


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
def endpoint(endpoint_id: int) -> ResponseReturnValue:
    found = webhook_endpoint_for(endpoint_id)
    form = EndpointForm()
    if form.is_submitted():
        if form.validate():
            try:
                service.update_endpoint(found, form.data_for_service())
            except RuleError as error:
                apply_rule_error(form, error, fallback="url")
            else:
                flash(_("Endpoint saved."), "success")
                return redirect(url_for("webhooks.endpoint", endpoint_id=found.id))
        return _endpoint_page(found, form, 400)
    form.url.data = found.url
    form.description.data = found.description
    form.event_types.data = [kind.value for kind in found.event_type_list]
    return _endpoint_page(found, form)


@bp.route("/webhooks/<int:endpoint_id>/test", methods=["POST"])
def send_test(endpoint_id: int) -> ResponseReturnValue:
    found = webhook_endpoint_for(endpoint_id)
    service.send_test(found)
    flash(_("Test event queued: it appears in the log below once the worker has sent it."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
def rotate(endpoint_id: int) -> ResponseReturnValue:
    found = webhook_endpoint_for(endpoint_id)
    service.rotate_secret(found)
    flash(_("New secret made. The previous one also signs for 24 hours."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>/pause", methods=["POST"])
def pause(endpoint_id: int) -> ResponseReturnValue:
    found = webhook_endpoint_for(endpoint_id)
    service.set_active(found, False)
    flash(_("Deliveries paused."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>/resume", methods=["POST"])
def resume(endpoint_id: int) -> ResponseReturnValue:
    found = webhook_endpoint_for(endpoint_id)
    service.set_active(found, True)
    flash(_("Deliveries resumed."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
def delete(endpoint_id: int) -> ResponseReturnValue:
    # The CSRF token of every POST is checked app-wide (extensions.csrf) before the view runs.
    found = webhook_endpoint_for(endpoint_id)
    if found.event_id is not None:
        back = url_for("webhooks.event_endpoints", event_id=found.event_id)
    else:
        back = url_for("webhooks.series_endpoints", series_id=found.series_id)
    service.delete_endpoint(found)
    flash(_("Endpoint removed."), "success")
    return redirect(back)
