"""Webhook endpoints of a webinar through the API: what the organizer pages offer, for a CRM or a
website that registers its own receiver. Endpoints hold their signing secret, so every route here
wants a write token and EDIT on the webinar, as the pages do."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..database import get_by_id
from ..models import TokenScope, WebhookEndpoint
from ..permissions import Capability, may
from ..rules import RuleError
from ..webhooks import service as webhooks
from . import schemas
from .auth import api_user, token_required
from .organizer import ID, SECURED, managed_event
from .paging import paginate

blp = Blueprint(
    "api_webhooks",
    __name__,
    url_prefix="/api/v1/manage",
    description="Webhook endpoints of your webinars, their secrets and delivery logs (write token).",
)
WRITE = token_required(TokenScope.WRITE)

EXAMPLE_ENDPOINT = {
    "url": "https://crm.example.org/hooks/webinars",
    "event_types": ["registration.created", "registration.cancelled"],
    "description": "CRM",
}


@blp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"  # answers hold signing secrets
    response.headers["Vary"] = "Authorization"
    return response


def managed_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_by_id(WebhookEndpoint, endpoint_id)
    target = None if endpoint is None else endpoint.event or endpoint.series
    if endpoint is None or target is None or not may(api_user(), Capability.EDIT, target):
        abort(404, message="You manage no webhook endpoint with this id.")
    assert endpoint is not None
    return endpoint


@blp.route(f"/webinars/<{ID}:event_id>/webhooks")
class WebinarEndpoints(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.WebhookEndpointListSchema)
    def get(self, event_id: int) -> Any:
        """The webinar's webhook endpoints."""
        return {"items": webhooks.endpoints_of(managed_event(event_id, Capability.EDIT))}

    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.WebhookEndpointWriteSchema, example=EXAMPLE_ENDPOINT)
    @blp.response(201, schemas.WebhookEndpointSchema)
    def post(self, data: dict[str, Any], event_id: int) -> Any:
        """Add an endpoint. Its answer holds the secret that signs every delivery (Standard Webhooks)."""
        event = managed_event(event_id, Capability.EDIT)
        try:
            endpoint = webhooks.create_endpoint(event, webhooks.EndpointData(**data), api_user())
        except RuleError as error:
            abort(422, message="The endpoint breaks a rule: see errors.", errors=error.errors)
        location = url_for("api_webhooks.Endpoint", endpoint_id=endpoint.id, _external=True)
        return endpoint, 201, {"Location": location}


@blp.route(f"/webhooks/<{ID}:endpoint_id>")
class Endpoint(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.WebhookEndpointSchema)
    def get(self, endpoint_id: int) -> Any:
        """One endpoint."""
        return managed_endpoint(endpoint_id)

    @blp.doc(**SECURED)
    @WRITE
    @blp.response(204)
    def delete(self, endpoint_id: int) -> Any:
        """Remove the endpoint and its delivery log."""
        webhooks.delete_endpoint(managed_endpoint(endpoint_id))
        return None


@blp.route(f"/webhooks/<{ID}:endpoint_id>/test")
class EndpointTest(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(202, schemas.WebhookEndpointSchema)
    def post(self, endpoint_id: int) -> Any:
        """Queue a webhook.test event; the worker delivers it like any other."""
        endpoint = managed_endpoint(endpoint_id)
        webhooks.send_test(endpoint)
        return endpoint


@blp.route(f"/webhooks/<{ID}:endpoint_id>/rotate")
class EndpointRotate(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.WebhookEndpointSchema)
    def post(self, endpoint_id: int) -> Any:
        """A new secret; the previous one also signs for 24 hours."""
        endpoint = managed_endpoint(endpoint_id)
        webhooks.rotate_secret(endpoint)
        return endpoint


@blp.route(f"/webhooks/<{ID}:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.PageArgsSchema, location="query")
    @blp.response(200, schemas.WebhookDeliveryPageSchema)
    def get(self, args: dict[str, Any], endpoint_id: int) -> Any:
        """The delivery log, newest first."""
        endpoint = managed_endpoint(endpoint_id)
        return paginate(webhooks.deliveries(endpoint), args)
