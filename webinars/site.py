"""The site's public face as the administrator set it (name, logo, accent colour, footer links), read
once per request.

Any layer may read it: pages, emails and feeds all name the site. Changing it is the ``branding``
package's business. Reading costs one query per request: a process-wide cache would need telling when
another web process saves new settings, and the settings must show at once on every page.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import Image, SiteSettings

SETTINGS_ID = 1
_REQUEST_KEY = "webinars.site_brand"
# Outside requests (the mail worker renders thousands of emails in a bulk send) the brand is kept this
# many seconds per app: an email may name the site by its old name for that long after a rename.
BACKGROUND_MAX_AGE = 30.0
_background: weakref.WeakKeyDictionary[Flask, tuple[float, Brand]] = weakref.WeakKeyDictionary()
_background_lock = threading.Lock()


@dataclass(frozen=True)
class Brand:
    """The settings with the environment's defaults filled in; detached from the session, so a
    template may read it after a rollback."""

    name: str
    logo: Image | None
    has_svg_logo: bool
    accent_color: str
    organisation_label: str
    organisation_url: str
    privacy_label: str
    privacy_url: str
    imprint_label: str
    imprint_url: str
    version: int
    updated_at: datetime | None

    @property
    def has_logo(self) -> bool:
        return self.logo is not None or self.has_svg_logo

    @property
    def has_footer_links(self) -> bool:
        return bool(self.organisation_url or self.privacy_url or self.imprint_url)


def load_settings() -> SiteSettings | None:
    return db.session.get(SiteSettings, SETTINGS_ID)


def _from_row(row: SiteSettings | None) -> Brand:
    default_name = str(current_app.config["SITE_NAME"])
    if row is None:
        return Brand(default_name, None, False, "", "", "", "", "", "", "", 0, None)
    return Brand(
        name=row.site_name or default_name,
        logo=row.logo,
        has_svg_logo=bool(row.logo_svg),
        accent_color=row.accent_color,
        organisation_label=row.organisation_label,
        organisation_url=row.organisation_url,
        privacy_label=row.privacy_label,
        privacy_url=row.privacy_url,
        imprint_label=row.imprint_label,
        imprint_url=row.imprint_url,
        version=row.version,
        updated_at=row.updated_at,
    )


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def brand() -> Brand:
    """This request's brand (one query, the first time it is asked for); outside a request (the mail
    worker, commands) a copy at most ``BACKGROUND_MAX_AGE`` seconds old."""
    if has_request_context():
        cached = request.environ.get(_REQUEST_KEY)
        if isinstance(cached, Brand):
            return cached
    else:
        with _background_lock:
            kept = _background.get(_app())
        if kept is not None and time.monotonic() - kept[0] < BACKGROUND_MAX_AGE:
            return kept[1]
    try:
        row = load_settings()
    except SQLAlchemyError:
        # An error page must still render when the database is what failed: it shows the defaults.
        db.session.rollback()
        row = None
    value = _from_row(row)
    if has_request_context():
        request.environ[_REQUEST_KEY] = value
    else:
        with _background_lock:
            _background[_app()] = (time.monotonic(), value)
    return value


def forget() -> None:
    """After saving new settings, so what follows in this process reads them."""
    if has_request_context():
        request.environ.pop(_REQUEST_KEY, None)
    with _background_lock:
        _background.clear()


def site_name() -> str:
    return brand().name
