"""Response headers, a per-response Content-Security-Policy, and URL converters that refuse absurd values.

The policy is built per response from ``DEFAULT_POLICY``: a view (or a blueprint's before_request)
changes its own response's policy with ``csp_sources``/``set_csp`` or the ``content_security_policy``
decorator, for example a page meant to be embedded elsewhere widening ``frame-ancestors``.
Scripts run only from our static files or with the per-response nonce (``csp_nonce()`` in templates).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.routing import IntegerConverter, UnicodeConverter

DEFAULT_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'", "'nonce-{nonce}'"),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# Features a webinar site never asks the browser for.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"
)

# PostgreSQL's INTEGER: a larger id in a URL cannot name a row, and would make the query itself fail.
MAX_ID = 2**31 - 1
# Slugs are at most 220 characters and tokens far less; longer path segments name nothing.
MAX_SEGMENT = 255

F = TypeVar("F", bound=Callable[..., Any])


# Kept with the request, not in ``g``: an app context (and its ``g``) may outlive one request.
_NONCE_KEY = "webinars.csp_nonce"
_POLICY_KEY = "webinars.csp_policy"


def csp_nonce() -> str:
    """This response's nonce, for the rare inline <script nonce="..."> a template needs."""
    if _NONCE_KEY not in request.environ:
        request.environ[_NONCE_KEY] = secrets.token_urlsafe(18)
    return str(request.environ[_NONCE_KEY])


def _policy() -> dict[str, list[str]]:
    if _POLICY_KEY not in request.environ:
        request.environ[_POLICY_KEY] = {name: list(sources) for name, sources in DEFAULT_POLICY.items()}
    return cast(dict[str, list[str]], request.environ[_POLICY_KEY])


def csp_sources(directive: str, *sources: str) -> None:
    """Allow more sources for one directive of this response's policy."""
    current = _policy().setdefault(directive, [])
    current.extend(source for source in sources if source not in current)


def set_csp(directive: str, *sources: str) -> None:
    """Replace one directive of this response's policy (no sources removes it)."""
    if sources:
        _policy()[directive] = list(sources)
    else:
        _policy().pop(directive, None)


def content_security_policy(**directives: Iterable[str]) -> Callable[[F], F]:
    """Replace directives for one view: ``@content_security_policy(frame_ancestors=["https://a.example"])``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            for name, sources in directives.items():
                set_csp(name.replace("_", "-"), *sources)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def policy_header() -> str:
    nonce = csp_nonce()
    return "; ".join(
        " ".join([name, *(source.format(nonce=nonce) for source in sources)]).strip()
        for name, sources in _policy().items()
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy_header())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # X-Frame-Options cannot express "these sites may frame me": it only stands in for the default.
    if _policy().get("frame-ancestors") == ["'none'"]:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if urlsplit(current_app.config["BASE_URL"]).scheme == "https" and current_app.config["HSTS_MAX_AGE"]:
        headers.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_MAX_AGE']}")
    return response


class SegmentConverter(UnicodeConverter):
    """The default converter without control characters (a NUL cannot even be sent to PostgreSQL)."""

    def __init__(self, map: Any, minlength: int = 1, maxlength: int | None = None, length: int | None = None):
        super().__init__(map, minlength=minlength, maxlength=maxlength or MAX_SEGMENT, length=length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to what a database id can be: 10^20 is a missing page, not a failed query."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max)


def private_link_headers(response: Response) -> Response:
    """For pages reached by an attendee's manage link: the URL is the credential, so keep it out of
    shared caches, of Referer headers and of search engines."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def register_converters(app: Flask) -> None:
    """Before any route is added: rules pick their converters when they are registered."""
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["string"] = SegmentConverter
    app.url_map.converters["int"] = IdConverter


def register(app: Flask) -> None:
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


# A preview of an email's HTML, shown in a sandboxed frame of the organizer's own page: the email's
# inline styles apply (mail programs honour them), nothing else may load or run, and only our pages
# may frame it.
email_preview_policy = content_security_policy(
    default_src=["'none'"],
    style_src=["'unsafe-inline'"],
    img_src=["'self'", "data:", "https:"],
    form_action=["'none'"],
    frame_ancestors=["'self'"],
)
