"""The organizer part of the API, with a personal token. Every change goes through the same services
as the organizer pages, so seats, invitations and the outbox behave exactly as there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..events import service as events
from ..events.queries import numbers_taken
from ..extensions import db
from ..models import Event, EventStatus, OutboxMessage, Registration, TokenScope
from ..permissions import Capability, events_visible_to, may
from ..questions import service as questions
from ..registrations import export
from ..registrations import service as registrations
from ..rules import RuleError
from ..series import service as series_service
from . import schemas
from .auth import SECURITY_SCHEME, api_user, token_required
from .paging import paginate
from .public import EXAMPLE_PERSON, REFUSALS

blp = Blueprint(
    "api_organizer",
    __name__,
    url_prefix="/api/v1/manage",
    description="The webinars you manage, their registrations and emails. Needs a personal API token "
    "(read scope for reading, write scope for changes).",
)


@blp.after_request
def _private(response: Response) -> Response:
    # Answers depend on the token: shared caches must not keep them; ETags still revalidate.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Authorization"
    return response


EXAMPLE_WEBINAR = {
    "title": "Webinar #17: Circular Economy in Latin America",
    "starts_at": "2030-03-12T19:00:00+00:00",
    "timezone": "America/Santiago",
    "duration_minutes": 90,
    "summary": "Policies and cases.",
    "join_url": "https://meet.example.org/room-17",
    "capacity": 100,
    "speakers": [{"name": "Camila Rojas", "affiliation": "Universidad de Chile"}],
    "tags": ["SDG 12"],
    "embed_origins": ["https://www.example.org"],
}

# Database ids are 32-bit: a larger number in a URL is simply not found.
ID = "int(min=1, max=2147483647)"
SECURED: dict[str, Any] = {"security": [{SECURITY_SCHEME: []}]}
READ = token_required(TokenScope.READ)
WRITE = token_required(TokenScope.WRITE)

# The services name the fields of the web form; the API's fields are named after the data.
_FIELD_NAMES = {
    "start_date": "starts_at",
    "start_time": "starts_at",
    "deadline_date": "registration_deadline",
}


def managed_event(event_id: int, capability: Capability = Capability.VIEW) -> Event:
    """The webinar, if the token's owner holds ``capability`` on it; 404 otherwise (no hint that it
    exists). The same rule as the organizer pages (webinars.permissions), answered as problem+json."""
    event = db.session.get(Event, event_id)
    if event is None or not may(api_user(), capability, event):
        abort(404, message="You manage no webinar with this id.")
    assert event is not None
    return event


def _rule_error(error: RuleError, status: int = 422) -> None:
    errors: dict[str, list[str]] = {}
    for name, messages in error.errors.items():
        errors.setdefault(_FIELD_NAMES.get(name, name), []).extend(messages)
    abort(status, message="The change breaks a rule: see errors.", errors=errors)


def _series_id(data: dict[str, Any], event: Event | None) -> int | None:
    if data.get("series") is None:
        return None
    series = series_service.by_slug(data["series"])
    if series is None or not may(api_user(), Capability.EDIT, series):
        abort(422, errors={"series": ["You manage no series with this slug."]})
    assert series is not None
    number = data.get("number")
    keeps_own = event is not None and event.series_id == series.id and event.number == number
    if number is not None and not keeps_own and numbers_taken(series.id, range(number, number + 1)):
        abort(422, errors={"number": ["Another webinar in this series has this number."]})
    return series.id


def _event_data(data: dict[str, Any], base: events.EventData, event: Event | None) -> events.EventData:
    changes: dict[str, Any] = {}
    simple = (
        "title",
        "starts_at",
        "timezone",
        "duration_minutes",
        "summary",
        "description_md",
        "join_url",
        "capacity",
        "registration_deadline",
        "tags",
        "embed_origins",
    )
    for name in simple:
        if name in data:
            changes[name] = data[name]
    if "speakers" in data:
        changes["speakers"] = [(s["name"], s.get("affiliation", "")) for s in data["speakers"]]
    if "reminder_minutes" in data:
        changes["reminder_offsets"] = ",".join(
            str(m) for m in sorted(set(data["reminder_minutes"]), reverse=True)
        )
    if "series" in data or "number" in data:
        merged = {
            "series": data.get("series", event.series.slug if event and event.series else None),
            "number": data.get("number", event.number if event else None),
        }
        changes["series_id"] = _series_id(merged, event)
        changes["number"] = merged["number"] if changes["series_id"] is not None else None
    return replace(base, **changes)


@blp.route("/webinars")
class Webinars(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.etag
    @blp.arguments(schemas.PageArgsSchema, location="query")
    @blp.response(200, schemas.OrganizerWebinarPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The webinars you manage, newest first, drafts included."""
        query = events_visible_to(api_user()).order_by(Event.starts_at.desc(), Event.id.desc())
        return paginate(query, args)

    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.WebinarWriteSchema, example=EXAMPLE_WEBINAR)
    @blp.response(201, schemas.OrganizerWebinarSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft webinar; publish it to open registration."""
        placeholder = events.EventData(title="", starts_at=data["starts_at"], timezone=data["timezone"])
        event_data = _event_data(data, placeholder, None)
        try:
            event = events.create_event(api_user(), event_data)
        except RuleError as error:
            _rule_error(error)
        return event, 201, {"Location": url_for("api_organizer.Webinar", event_id=event.id, _external=True)}


@blp.route(f"/webinars/<{ID}:event_id>")
class Webinar(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.etag
    @blp.response(200, schemas.OrganizerWebinarSchema)
    def get(self, event_id: int) -> Any:
        """One webinar you manage."""
        return managed_event(event_id)

    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.WebinarPatchSchema(partial=True))
    @blp.response(200, schemas.OrganizerWebinarSchema)
    def patch(self, data: dict[str, Any], event_id: int) -> Any:
        """Change some fields. A change of title, time, duration or join link sends confirmed attendees
        an updated invitation, as the edit page does."""
        return _change(event_id, data)


def _change(event_id: int, data: dict[str, Any]) -> Event:
    event = managed_event(event_id, Capability.EDIT)
    if event.status == EventStatus.CANCELLED:
        abort(409, message="A cancelled webinar cannot be changed.", reason="cancelled")
    try:
        events.update_event(event, _event_data(data, events.EventData.from_event(event), event))
    except RuleError as error:
        _rule_error(error)
    return event


@blp.route(f"/webinars/<{ID}:event_id>/reschedule")
class Reschedule(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.RescheduleSchema)
    @blp.response(200, schemas.OrganizerWebinarSchema)
    def post(self, data: dict[str, Any], event_id: int) -> Any:
        """Move the webinar: attendees get the updated invitation (same UID, higher SEQUENCE)."""
        return _change(event_id, data)


def _action(event_id: int, capability: Capability, action: Callable[[Event], None]) -> Event:
    event = managed_event(event_id, capability)
    try:
        action(event)
    except RuleError as error:
        _rule_error(error, 409)
    return event


@blp.route(f"/webinars/<{ID}:event_id>/publish")
class Publish(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.OrganizerWebinarSchema)
    def post(self, event_id: int) -> Any:
        """Publish: the page goes live and registration opens (until its deadline or the start)."""
        return _action(event_id, Capability.EDIT, events.publish)


@blp.route(f"/webinars/<{ID}:event_id>/cancel")
class Cancel(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.OrganizerWebinarSchema)
    def post(self, event_id: int) -> Any:
        """Cancel: confirmed attendees get a calendar CANCEL, the waitlist a notice."""
        return _action(event_id, Capability.ADMINISTER, events.cancel_event)


def managed_registration(
    event_id: int, registration_id: int, capability: Capability = Capability.VIEW
) -> Registration:
    managed_event(event_id, capability)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        abort(404, message="This webinar has no registration with this id.")
    assert registration is not None
    return registration


@blp.route(f"/webinars/<{ID}:event_id>/registrations")
class Registrations(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.etag
    @blp.arguments(schemas.RegistrationListArgsSchema, location="query")
    @blp.response(200, schemas.RegistrationPageSchema)
    def get(self, args: dict[str, Any], event_id: int) -> Any:
        """The webinar's registrations, in the order they came, optionally of one status."""
        event = managed_event(event_id)
        status = args["status"].value if args.get("status") else None
        query = export.registrations_query(event, status).options(selectinload(Registration.answers))
        return paginate(query, args)

    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.RegistrationAddSchema, example=EXAMPLE_PERSON)
    @blp.response(201, schemas.RegistrationAddedSchema)
    @blp.alt_response(200, schema=schemas.RegistrationAddedSchema, description="Already registered.")
    def post(self, data: dict[str, Any], event_id: int) -> Any:
        """Register someone, through the same rules as the public form (seat or waitlist, email)."""
        event = managed_event(event_id, Capability.EDIT)
        try:
            answers = questions.checked_answers(event, data["answers"])
        except RuleError as error:
            _rule_error(error)
        try:
            outcome = registrations.register(
                event,
                name=data["name"],
                email=data["email"],
                organisation=data["organisation"],
                consent=True,
                timezone=data["timezone"],
                locale=data["locale"],
                answers=answers,
            )
        except registrations.RegistrationRefused as refused:
            abort(409, message=REFUSALS[refused.reason], reason=refused.reason)
        registration = db.session.get(Registration, outcome.registration.id)
        return {"created": outcome.created, "registration": registration}, 201 if outcome.created else 200


@blp.route(f"/webinars/<{ID}:event_id>/registrations/<{ID}:registration_id>")
class RegistrationItem(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.etag
    @blp.response(200, schemas.RegistrationSchema)
    def get(self, event_id: int, registration_id: int) -> Any:
        """One registration."""
        return managed_registration(event_id, registration_id)


@blp.route(f"/webinars/<{ID}:event_id>/registrations/<{ID}:registration_id>/cancel")
class RegistrationCancel(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.RegistrationSchema)
    def post(self, event_id: int, registration_id: int) -> Any:
        """Cancel a registration: the seat goes to the first on the waitlist; the person gets a CANCEL."""
        registration = managed_registration(event_id, registration_id, Capability.EDIT)
        registrations.cancel(registration)
        return registration


def _decide(event_id: int, registration_id: int, *, approve: bool, reason: str = "") -> Registration:
    registration = managed_registration(event_id, registration_id, Capability.EDIT)
    changed = registrations.decide(registration.event, [registration.id], approve_them=approve, reason=reason)
    if not changed:
        db.session.refresh(registration)
        abort(
            409,
            message=f"This registration is {registration.status.value}: there is nothing to decide.",
            reason="not_pending",
        )
    db.session.refresh(registration)
    return registration


@blp.route(f"/webinars/<{ID}:event_id>/registrations/<{ID}:registration_id>/approve")
class RegistrationApprove(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.response(200, schemas.RegistrationSchema)
    def post(self, event_id: int, registration_id: int) -> Any:
        """Approve a sign-up awaiting approval: a seat if one is left (with the invitation), else the
        waitlist. 409 when it is not awaiting approval."""
        return _decide(event_id, registration_id, approve=True)


@blp.route(f"/webinars/<{ID}:event_id>/registrations/<{ID}:registration_id>/decline")
class RegistrationDecline(MethodView):
    @blp.doc(**SECURED)
    @WRITE
    @blp.arguments(schemas.DeclineSchema, example={"reason": "The webinar is for member institutions."})
    @blp.response(200, schemas.RegistrationSchema)
    def post(self, data: dict[str, Any], event_id: int, registration_id: int) -> Any:
        """Decline a sign-up awaiting approval or on the waitlist; the person gets an email with the
        optional reason. 409 for any other status."""
        return _decide(event_id, registration_id, approve=False, reason=data["reason"])


@blp.route(f"/webinars/<{ID}:event_id>/registrations.csv")
class RegistrationsExport(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.arguments(schemas.ExportArgsSchema, location="query")
    @blp.response(
        200, {"type": "string"}, content_type="text/csv", description="UTF-8 CSV, one row a person."
    )
    def get(self, args: dict[str, Any], event_id: int) -> Any:
        """The registrations as a spreadsheet (formulas neutralised)."""
        event = managed_event(event_id)
        status = args["status"].value if args.get("status") else None
        return Response(
            export.csv_text(event, status),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{export.filename(event)}"'},
        )


@blp.route(f"/webinars/<{ID}:event_id>/emails")
class Emails(MethodView):
    @blp.doc(**SECURED)
    @READ
    @blp.etag
    @blp.arguments(schemas.EmailLogArgsSchema, location="query")
    @blp.response(200, schemas.EmailPageSchema)
    def get(self, args: dict[str, Any], event_id: int) -> Any:
        """The email log: every message about this webinar, newest first, with its delivery status."""
        event = managed_event(event_id)
        query = select(OutboxMessage).where(OutboxMessage.event_id == event.id)
        if args.get("status"):
            query = query.where(OutboxMessage.status == args["status"])
        return paginate(query.order_by(OutboxMessage.id.desc()), args)
