"""CSRF protection for the sign-up form that other websites embed in an iframe.

The usual defence (Flask-WTF: a token kept in the session and repeated in the form) cannot work
there: inside a third-party iframe Chromium does not send our ``SameSite=Lax`` session cookie, so
the server would never find the session the token belongs to. Relaxing the cookie to ``SameSite=None``
would expose every other form of the site to cross-site posts, and third-party cookies are being
phased out anyway. So this form holds without any cookie, with two checks:

1. A signed, expiring token bound to the webinar. The page that shows the form puts in it an
   itsdangerous signature (SECRET_KEY, a salt of its own) over the webinar's id and the time. A post
   without a valid, unexpired token for *this* webinar is refused, so a post cannot be made up
   without first loading the form, and an old page cannot be replayed forever.
2. The request must come from our own form. The form is a document of our origin (whatever page
   frames it), so the browser's POST carries ``Origin`` (and ``Sec-Fetch-Site: same-origin``) naming
   this site. A page elsewhere that fetched a token and posts a copy of the form sends its own origin
   and is refused. Which sites may show the form at all is decided by ``frame-ancestors`` with the
   origins the organizer listed, sent on every response of the form (GET and POST alike).

Since no session is involved, a token cannot be tied to one visitor; that is acceptable here because
the form grants nothing a visitor could not do by filling it in, and the rate limit and the
same-answer-for-everyone rule of sign-up apply as on the webinar's own page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import Event

SALT = "webinars.embed-signup"


class EmbedRequestRefused(Exception):
    """The post did not come from a form this site served for this webinar, recently."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(event: Event) -> str:
    return _serializer().dumps({"webinar": event.id})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins() -> set[str]:
    """This site's origin as configured and as the browser addressed it (they differ behind a proxy)."""
    return {_origin_of(current_app.config["BASE_URL"]), _origin_of(request.host_url)}


def check_post(event: Event, token: str | None) -> None:
    """Raise EmbedRequestRefused unless the current POST is a genuine submission of the form."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        raise EmbedRequestRefused("cross-site post")
    origin = request.headers.get("Origin")
    if origin is None and request.referrer:  # browsers that omit Origin still send the form's URL
        origin = _origin_of(request.referrer)
    if origin is not None and origin.lower() not in own_origins():
        raise EmbedRequestRefused("foreign origin")
    if not token or len(token) > 500:
        raise EmbedRequestRefused("no token")
    try:
        payload = _serializer().loads(token, max_age=current_app.config["EMBED_FORM_MAX_AGE"])
    except BadSignature as error:  # also SignatureExpired
        raise EmbedRequestRefused("bad or expired token") from error
    if not isinstance(payload, dict) or payload.get("webinar") != event.id:
        raise EmbedRequestRefused("token for another webinar")
