"""Errors of the JSON API as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Validation messages, however nested (``{"json": {"speakers": {0: {"name": [...]}}}}``), as one
    mapping from a dotted field path to its messages (``{"speakers.0.name": [...]}``)."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, path))
        return flat
    if isinstance(messages, list | tuple):
        if all(isinstance(item, str) for item in messages):
            return {prefix or "_": [str(item) for item in messages]}
        flat = {}
        for item in messages:
            flat.update(flatten(item, prefix))
        return flat
    return {prefix or "_": [str(messages)]}


def problem(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
    reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    from http import HTTPStatus

    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if reason:
        body["reason"] = reason
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Webargs puts the messages under the part of the request they came from; the API's fields are
# unique across the query and the body, so the location adds nothing for the client.
_LOCATIONS = ("json", "query", "querystring", "view_args", "headers", "form")


def from_http_exception(error: HTTPException) -> Response:
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    errors: dict[str, list[str]] | None = None
    if isinstance(messages, Mapping):
        unwrapped: dict[str, Any] = {}
        for key, value in messages.items():
            if key in _LOCATIONS and isinstance(value, Mapping):
                unwrapped.update(value)
            else:
                unwrapped[key] = value
        errors = flatten(unwrapped)
    headers = dict(data.get("headers") or {})
    if code == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    if code == 422 and not data.get("message"):
        detail = "The request has invalid fields: see errors."
    else:
        detail = data.get("message") or (error.description if code != 500 else None)
    return problem(code, detail=detail, errors=errors, reason=data.get("reason"), headers=headers)
