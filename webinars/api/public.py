"""The public part of the API: what anyone may read, and sign-up. No token."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ..events import queries
from ..extensions import limiter
from ..models import Event, Series, Tag
from ..questions import service as questions
from ..registrations import service as registrations
from ..rules import RuleError
from ..series import service as series_service
from ..text import SLUG_PATTERN, is_slug, normalise_email
from . import schemas
from .paging import paginate

blp = Blueprint(
    "api_public",
    __name__,
    url_prefix="/api/v1",
    description="Published webinars and series, and sign-up. No token needed.",
)

SLUG_PARAM = {"in": "path", "name": "slug", "schema": {"type": "string", "pattern": SLUG_PATTERN}}


EXAMPLE_PERSON = {
    "name": "Ana Etxeberria",
    "email": "ana@example.org",
    "organisation": "Orkestra",
    "consent": True,
    "timezone": "Europe/Madrid",
    "locale": "es",
}


def public_webinar(slug: str, *, for_registration: bool = False) -> Event:
    event = queries.public_by_slug(slug, for_registration=for_registration) if is_slug(slug) else None
    if event is None:
        abort(404, message="No published webinar has this slug.")
    assert event is not None
    return event


@blp.route("/webinars")
class Webinars(MethodView):
    @blp.etag
    @blp.arguments(schemas.WebinarListArgsSchema, location="query")
    @blp.response(200, schemas.WebinarPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Published webinars, upcoming first (or past, or all), by series and topic."""
        if args["when"] == "upcoming":
            query = queries.upcoming()
        elif args["when"] == "past":
            query = queries.past()
        else:
            query = queries.public_events().order_by(Event.starts_at.desc(), Event.id.desc())
        if args.get("series"):
            query = query.where(Event.series.has(Series.slug == args["series"]))
        if args.get("tag"):
            query = query.where(Event.tags.any(Tag.slug == args["tag"]))
        return paginate(query, args)


@blp.route("/webinars/<slug>", parameters=[SLUG_PARAM])
class Webinar(MethodView):
    @blp.etag
    @blp.response(200, schemas.PublicWebinarSchema)
    def get(self, slug: str) -> Any:
        """One published webinar."""
        return public_webinar(slug)


def _signup_address() -> str:
    """The rate limit's second key: the address signed up, which an attacker cannot multiply."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    try:
        return (
            "signup:" + normalise_email(email) if isinstance(email, str) and len(email) <= 254 else "signup:-"
        )
    except ValueError:
        return "signup:-"


@blp.route("/webinars/<slug>/registrations", parameters=[SLUG_PARAM])
class SignUp(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["RATELIMIT_API_REGISTER"]),
        limiter.limit(
            lambda: current_app.config["RATELIMIT_API_REGISTER_PER_ADDRESS"], key_func=_signup_address
        ),
    ]

    @blp.arguments(schemas.SignUpSchema, example=EXAMPLE_PERSON)
    @blp.response(202, schemas.SignUpReceivedSchema)
    def post(self, data: dict[str, Any], slug: str) -> Any:
        """Sign someone up, exactly as the webinar's page does.

        The answer is the same for a new and an already registered address (nobody learns who
        registered): the person gets an email with their status, the invitation when they have a
        seat, and a private link to manage it. 409 when registration is not open.
        """
        event = public_webinar(slug, for_registration=True)
        try:
            answers = questions.checked_answers(event, data["answers"])
        except RuleError as error:
            abort(422, message="Some answers break the form's rules: see errors.", errors=error.errors)
        try:
            registrations.register(
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
        return {
            "status": "received",
            "detail": "Thank you. An email with the registration status and a private link to manage it "
            "is on its way.",
        }


REFUSALS = {
    "cancelled": "This webinar has been cancelled.",
    "not_published": "This webinar is not open for registration.",
    "closed": "Registration is closed.",
}


@blp.route("/series")
class SeriesList(MethodView):
    @blp.etag
    @blp.response(200, schemas.SeriesListSchema)
    def get(self) -> Any:
        """Every series, with its numbers of upcoming and past webinars."""
        return {"items": [_series(*row) for row in series_service.public_list()]}


def _series(series: Series, upcoming: int, past: int) -> dict[str, Any]:
    return {
        "slug": series.slug,
        "title": series.title,
        "description_md": series.description_md,
        "upcoming_count": upcoming,
        "past_count": past,
    }


@blp.route("/series/<slug>", parameters=[SLUG_PARAM])
class SeriesItem(MethodView):
    @blp.etag
    @blp.response(200, schemas.SeriesSchema)
    def get(self, slug: str) -> Any:
        """One series; its webinars are listed by GET /webinars?series=<slug>."""
        for row in series_service.public_list() if is_slug(slug) else []:
            if row[0].slug == slug:
                return _series(*row)
        abort(404, message="No series has this slug.")
