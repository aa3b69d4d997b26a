"""Who may show a page inside a frame.

By default no one (X-Frame-Options: DENY). A view that may be framed names the allowed origins with
allow_framing(); the app's response hook then sends ``Content-Security-Policy: frame-ancestors`` for
that response instead, added as one more directive beside whatever policy the response already has.
"""

from __future__ import annotations

from flask import Response, request

HEADER = "Content-Security-Policy"
_KEY = "webinars.frame_ancestors"


def allow_framing(origins: list[str]) -> None:
    """Let pages of ``origins`` (and the site itself) frame the current response."""
    # Kept with the request, not in ``g``: an app context (and its ``g``) may outlive one request.
    request.environ[_KEY] = ["'self'", *origins]


def apply(response: Response) -> Response:
    ancestors: list[str] | None = request.environ.get(_KEY)
    if ancestors is None:
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
    # X-Frame-Options cannot name origins, and browsers that know frame-ancestors ignore it anyway.
    response.headers.pop("X-Frame-Options", None)
    directive = "frame-ancestors " + " ".join(ancestors)
    existing = response.headers.get(HEADER, "").strip().rstrip(";")
    response.headers[HEADER] = f"{existing}; {directive}" if existing else directive
    return response
