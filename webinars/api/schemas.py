"""What the JSON API reads and writes, as marshmallow schemas; the OpenAPI document is built from them.

Room is kept for what comes later without breaking clients: clients must ignore fields they do not
know.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from ..models import Event, EventStatus, RegistrationStatus, WebhookEventType
from ..text import SLUG_PATTERN, has_control_characters, normalise_email, normalise_origin
from ..timefmt import is_timezone
from ..urls import embed_snippet, external_url

_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Line(fields.String):
    """One line of text: control characters are refused, not silently dropped."""

    multi_line = False

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        # The rule every form and service applies (webinars.text), so the API accepts nothing more.
        if has_control_characters(text, multiline=self.multi_line) or _SURROGATE.search(text):
            raise ValidationError("Control characters are not allowed.")
        return text


class Paragraphs(Line):
    """Text that may span lines (Markdown)."""

    multi_line = True


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class Email(Line):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_email(text)
        except ValueError as error:
            raise ValidationError("Enter a valid email address.") from error


class TimeZone(Line):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_timezone(text):
            raise ValidationError("Not a known IANA time zone, for example America/Santiago.")
        return text


class Origin(Line):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_origin(text)
        except ValueError as error:
            raise ValidationError(
                "Not an origin: write scheme and host, like https://example.org."
            ) from error


class WebUrl(fields.Url):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"http", "https"}, require_tld=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text) or _SURROGATE.search(text):
            raise ValidationError("Control characters are not allowed.")
        return text


class Instant(fields.AwareDateTime):
    """A moment with its UTC offset, within years a webinar can have: far ends of the calendar would
    overflow once a duration or a time zone is applied to them."""

    EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
    LATEST = datetime(2200, 1, 1, tzinfo=UTC)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not self.EARLIEST <= moment < self.LATEST:
            raise ValidationError("Give a moment between the years 2000 and 2199.")
        return moment


# --- shared pieces -------------------------------------------------------------------------------


class SpeakerSchema(Schema):
    name = Line(required=True, validate=[validate.Length(min=1, max=120), _not_blank])
    affiliation = Line(load_default="", validate=validate.Length(max=200))


class TagSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class SeriesRefSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)


class LinksSchema(Schema):
    self = fields.String(required=True, metadata={"description": "This page."})
    first = fields.String(required=True)
    last = fields.String(required=True)
    next = fields.String(allow_none=True, required=True)
    prev = fields.String(allow_none=True, required=True)


class PageMetaSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    links = fields.Nested(LinksSchema, required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100))


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "meta": fields.Nested(PageMetaSchema),
        },
        name=name,
    )


# --- public ----------------------------------------------------------------------------------------


class WebinarListArgsSchema(PageArgsSchema):
    when = fields.String(
        load_default="upcoming",
        validate=validate.OneOf(["upcoming", "past", "all"]),
        metadata={"description": "upcoming (default, soonest first), past (newest first) or all."},
    )
    series = fields.String(
        validate=validate.Regexp(SLUG_PATTERN), metadata={"description": "A series' slug."}
    )
    tag = fields.String(validate=validate.Regexp(SLUG_PATTERN), metadata={"description": "A topic's slug."})


class PublicWebinarSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    description_md = fields.String(required=True, metadata={"description": "Markdown."})
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in EventStatus]))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    timezone = fields.String(required=True, metadata={"description": "The IANA zone the organizer plans in."})
    capacity = fields.Integer(allow_none=True, required=True, metadata={"description": "null: unlimited."})
    seats_left = fields.Integer(allow_none=True, required=True, metadata={"description": "null: unlimited."})
    registration_open = fields.Method("_registration_open", required=True, metadata={"type": "boolean"})
    registration_closes_at = fields.AwareDateTime(required=True)
    speakers = fields.List(fields.Nested(SpeakerSchema), required=True)
    series = fields.Nested(SeriesRefSchema, allow_none=True, required=True)
    number = fields.Integer(allow_none=True, required=True, metadata={"description": "Number in the series."})
    tags = fields.List(fields.Nested(TagSchema), required=True)
    recording_url = fields.String(required=True)
    url = fields.Method("_url", required=True, metadata={"type": "string", "description": "The public page."})
    ics_url = fields.Method("_ics_url", required=True, metadata={"type": "string"})

    def _registration_open(self, event: Event) -> bool:
        return event.registration_open()

    def _url(self, event: Any) -> str:
        return external_url("events.detail", slug=event.slug)

    def _ics_url(self, event: Any) -> str:
        return external_url("calendar.event_ics", slug=event.slug)


WebinarPageSchema = page_of(PublicWebinarSchema, "WebinarPage")


class SeriesSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    description_md = fields.String(required=True)
    upcoming_count = fields.Integer(required=True)
    past_count = fields.Integer(required=True)


class SeriesListSchema(Schema):
    items = fields.List(fields.Nested(SeriesSchema), required=True)


class SignUpSchema(Schema):
    name = Line(required=True, validate=[validate.Length(min=1, max=120), _not_blank])
    email = Email(required=True, validate=validate.Length(min=3, max=254))
    organisation = Line(load_default="", validate=validate.Length(max=200))
    consent = fields.Boolean(
        required=True,
        metadata={"description": "Must be true: the person agrees to receive emails about this webinar."},
    )
    timezone = TimeZone(load_default=None, allow_none=True, validate=validate.Length(max=64))
    locale = fields.String(load_default="en", validate=validate.OneOf(["en", "es", "pt"]))
    answers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,9}$")),
        values=fields.Raw(allow_none=True),
        load_default=dict,
        metadata={
            "description": "The registration questions' answers, by question id: text, true or false "
            "for a checkbox, a list of choices for several choices. Required questions must be "
            "answered, choices taken from the question's list, as on the form."
        },
    )

    @validates("consent")
    def _consented(self, value: bool, **_kwargs: Any) -> None:
        if value is not True:
            raise ValidationError("We need the person's consent to send the invitation.")


class SignUpReceivedSchema(Schema):
    status = fields.String(required=True, metadata={"description": "Always 'received'."})
    detail = fields.String(required=True)


# --- organizer -------------------------------------------------------------------------------------


class WebinarWriteSchema(Schema):
    """A webinar as an organizer writes it. On PATCH every field is optional."""

    title = Line(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    starts_at = Instant(required=True, metadata={"description": "With a UTC offset."})
    timezone = TimeZone(required=True, validate=validate.Length(max=64))
    duration_minutes = fields.Integer(load_default=60, validate=validate.Range(min=5, max=24 * 60))
    summary = Line(load_default="", validate=validate.Length(max=500))
    description_md = Paragraphs(load_default="", validate=validate.Length(max=20000))
    join_url = WebUrl(load_default="", validate=validate.Length(max=500))
    capacity = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=1_000_000)
    )
    registration_deadline = Instant(load_default=None, allow_none=True)
    speakers = fields.List(fields.Nested(SpeakerSchema), load_default=list, validate=validate.Length(max=20))
    reminder_minutes = fields.List(
        fields.Integer(validate=validate.Range(min=5, max=60 * 24 * 60)),
        load_default=lambda: [1440, 60],
        validate=validate.Length(max=10),
        metadata={"description": "Reminders, in minutes before the start; empty for none."},
    )
    series = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(SLUG_PATTERN),
        metadata={"description": "The slug of a series you manage, or null."},
    )
    number = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100000))
    tags = fields.List(
        Line(validate=[validate.Length(min=1, max=80), _not_blank]),
        load_default=list,
        validate=validate.Length(max=20),
    )
    embed_origins = fields.List(
        Origin(),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Origins whose pages may frame the sign-up form."},
    )


class WebinarPatchSchema(WebinarWriteSchema):
    """Only the fields sent change; load it with partial=True."""


class RescheduleSchema(Schema):
    starts_at = Instant(required=True)
    duration_minutes = fields.Integer(validate=validate.Range(min=5, max=24 * 60))
    timezone = TimeZone(validate=validate.Length(max=64))


class StatusCountsSchema(Schema):
    confirmed = fields.Integer(required=True)
    waitlisted = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)


class OrganizerWebinarSchema(PublicWebinarSchema):
    id = fields.Integer(required=True)
    join_url = fields.String(required=True)
    seats_taken = fields.Integer(required=True)
    sequence = fields.Integer(required=True)
    reminder_minutes = fields.List(fields.Integer(), required=True)
    embed_origins = fields.List(fields.String(), required=True, attribute="embed_origin_list")
    embed_snippet = fields.Method("_snippet", required=True, metadata={"type": "string"})
    registration_deadline = fields.AwareDateTime(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    published_at = fields.AwareDateTime(allow_none=True, required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)

    def _snippet(self, event: Any) -> str:
        return embed_snippet(event.slug)


OrganizerWebinarPageSchema = page_of(OrganizerWebinarSchema, "OrganizerWebinarPage")


class RegistrationListArgsSchema(PageArgsSchema):
    status = fields.Enum(RegistrationStatus, by_value=True, load_default=None)


class AnswerSchema(Schema):
    question_id = fields.Integer(
        allow_none=True, required=True, metadata={"description": "null when the question was deleted."}
    )
    question = fields.String(
        required=True, attribute="question_label", metadata={"description": "The wording when answered."}
    )
    kind = fields.String(required=True, metadata={"description": "The question's kind, e.g. single_choice."})
    value = fields.String(
        required=True, metadata={"description": "As given; several choices are separated by line breaks."}
    )


class RegistrationSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    organisation = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in RegistrationStatus])
    )
    timezone = fields.String(allow_none=True, required=True)
    locale = fields.String(required=True)
    consent = fields.Boolean(required=True)
    attended = fields.Boolean(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    confirmed_at = fields.AwareDateTime(allow_none=True, required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    unsubscribed_at = fields.AwareDateTime(allow_none=True, required=True)
    answers = fields.List(
        fields.Nested(AnswerSchema),
        required=True,
        metadata={"description": "The answers to the webinar's registration questions."},
    )


RegistrationPageSchema = page_of(RegistrationSchema, "RegistrationPage")


class RegistrationAddSchema(SignUpSchema):
    """An organizer adds someone; the person's consent is the organizer's to have asked for."""


class RegistrationAddedSchema(Schema):
    created = fields.Boolean(
        required=True, metadata={"description": "False: the address was already registered."}
    )
    registration = fields.Nested(RegistrationSchema, required=True)


class DeclineSchema(Schema):
    reason = Paragraphs(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Optional; sent to the person in the email that tells them."},
    )


class EmailLogArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(["queued", "sending", "sent", "failed"]))


class EmailSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    recipient = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    registration_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(required=True)
    sent_at = fields.AwareDateTime(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)


EmailPageSchema = page_of(EmailSchema, "EmailPage")


class ExportArgsSchema(Schema):
    status = fields.Enum(RegistrationStatus, by_value=True, load_default=None)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    reason = fields.String(metadata={"description": "A stable code for refusals, e.g. 'closed'."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field (dotted path) to its messages."},
    )


# --- webhooks --------------------------------------------------------------------------------------

_WEBHOOK_EVENTS = [kind.value for kind in WebhookEventType if kind != WebhookEventType.TEST]


class WebhookEndpointWriteSchema(Schema):
    url = Line(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "https:// on a public address (see WEBHOOKS_ALLOW_PRIVATE)."},
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(_WEBHOOK_EVENTS)),
        required=True,
        validate=validate.Length(min=1, max=len(_WEBHOOK_EVENTS)),
    )
    description = Line(load_default="", validate=validate.Length(max=200))


class WebhookEndpointSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True, attribute="event_type_list")
    secret = fields.String(
        required=True,
        metadata={"description": "whsec_...: verify each delivery's webhook-signature with it."},
    )
    active = fields.Boolean(required=True)
    disabled_reason = fields.String(required=True)
    webinar_id = fields.Integer(allow_none=True, required=True, attribute="event_id")
    series_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)


class WebhookEndpointListSchema(Schema):
    items = fields.List(fields.Nested(WebhookEndpointSchema), required=True)


class WebhookDeliverySchema(Schema):
    id = fields.Integer(required=True)
    message_id = fields.String(required=True, metadata={"description": "The webhook-id header."})
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(required=True)
    delivered_at = fields.AwareDateTime(allow_none=True, required=True)


WebhookDeliveryPageSchema = page_of(WebhookDeliverySchema, "WebhookDeliveryPage")
