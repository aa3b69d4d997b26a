"""Configuration classes, read from the environment.

Every setting can be overridden with an environment variable of the same name.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def database_url(url: str | None) -> str | None:
    """Use psycopg 3 for PostgreSQL URLs written the short way."""
    if url and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # None means: an SQLite file in the instance folder (set up by create_app).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # Behind a pooler in transaction mode (PgBouncer before 1.21) a prepared statement may be looked
    # for on another server connection: psycopg then prepares none.
    DATABASE_TRANSACTION_POOLING = _bool("DATABASE_TRANSACTION_POOLING")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    SITE_NAME = os.environ.get("SITE_NAME", "Webinars")

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Webinars <webinars@localhost>")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # Where .eml files go when MAIL_SERVER is not set (relative paths are inside the instance folder).
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", "mail")
    # Seconds to wait before each retry; after the last one the message is marked failed.
    MAIL_RETRY_DELAYS = tuple(
        int(s) for s in os.environ.get("MAIL_RETRY_DELAYS", "10,30,60,300,900").split(",") if s.strip()
    )
    # Seconds delivery pauses as a whole after each relay outage in a row (the last one repeats).
    # Messages keep their attempts meanwhile: an outage of any length loses nothing.
    MAIL_RELAY_PAUSES = tuple(
        int(s) for s in os.environ.get("MAIL_RELAY_PAUSES", "2,5,10,20,30,60").split(",") if s.strip()
    )
    # The most messages every worker together may start sending in one second (0: no limit), for a
    # provider that caps the sender. Counted in the database, so it holds across workers and
    # machines; transactional mail is claimed first and shares the cap (webinars/mail/pacing.py).
    MAIL_MAX_PER_SECOND = _int("MAIL_MAX_PER_SECOND", 0)
    WORKER_BATCH_SIZE = _int("WORKER_BATCH_SIZE", 50)
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", "2"))
    # How long a worker holds the messages it claimed; if it dies, another takes them after this.
    WORKER_LEASE_SECONDS = _int("WORKER_LEASE_SECONDS", 300)

    # Webhooks: endpoints on private, loopback or link-local addresses and plain http are refused
    # unless this is on (development machines, tests with a receiver on 127.0.0.1).
    WEBHOOKS_ALLOW_PRIVATE = _bool("WEBHOOKS_ALLOW_PRIVATE", False)
    # Seconds before each retry of a webhook the receiver did not accept; then it is marked failed.
    WEBHOOKS_RETRY_DELAYS = tuple(
        int(s) for s in os.environ.get("WEBHOOKS_RETRY_DELAYS", "10,30,60,300,900").split(",") if s.strip()
    )
    # Seconds a receiver has to connect and answer each request.
    WEBHOOKS_TIMEOUT = float(os.environ.get("WEBHOOKS_TIMEOUT", "10"))

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=_int("REMEMBER_DAYS", 30))
    # How long an emailed password-reset link and the CLI's first-administrator link stay valid.
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)
    SETUP_LINK_MAX_AGE = _int("SETUP_LINK_MAX_AGE", 86400)
    # Team and organizer invitations: long enough to reach someone back from a week away.
    INVITATION_MAX_AGE = _int("INVITATION_MAX_AGE", 7 * 86400)
    # The first-visit page that creates the administrator; otherwise only the CLI's one-time link does.
    SETUP_OPEN = _bool("SETUP_OPEN", False)

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are believed.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    HSTS_MAX_AGE = _int("HSTS_MAX_AGE", 63072000)

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "webinars")
    # Redis down: count in each process's memory meanwhile rather than refuse every sign-up.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Sign-ups per client (one NAT address can hide a whole classroom) and per address registered.
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "300 per hour")
    RATELIMIT_REGISTER_ADDRESS = os.environ.get("RATELIMIT_REGISTER_ADDRESS", "10 per hour")
    # Failed sign-ins per client and per account; a successful one costs nothing.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "20 per hour")
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "5 per hour")
    RATELIMIT_HEADERS_ENABLED = True

    # /readyz fails when the oldest due message has waited longer than this (seconds).
    READY_MAX_OUTBOX_AGE = _int("READY_MAX_OUTBOX_AGE", 900)
    METRICS_ENABLED = _bool("METRICS_ENABLED", True)
    # When set, /metrics wants "Authorization: Bearer <token>".
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # text or json
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # The site's languages, the default first: adding one is its code here and a catalogue in
    # webinars/translations/<code>/ (see README, Languages). "pt" is written for Brazil and reads
    # naturally in Portugal; browsers asking for pt-BR or pt-PT both get it.
    LANGUAGES = tuple(
        code.strip() for code in os.environ.get("LANGUAGES", "en,es,pt").split(",") if code.strip()
    )
    # Languages a webinar may be held in besides the site's own (its pages then mark its title and
    # description with that language, for screen readers, translation tools and search engines).
    CONTENT_LANGUAGES = tuple(
        code.strip()
        for code in os.environ.get("CONTENT_LANGUAGES", "en,es,pt,fr,de,it,ca,gl,eu").split(",")
        if code.strip()
    )

    PER_PAGE = _int("PER_PAGE", 50)
    # Public pages kept rendered per content version (webinars/pagecache.py).
    PAGE_CACHE_ENABLED = _bool("PAGE_CACHE_ENABLED", True)
    PAGE_CACHE_SIZE = _int("PAGE_CACHE_SIZE", 512)
    PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 60)
    PAGE_CACHE_REDIS_URL = os.environ.get("PAGE_CACHE_REDIS_URL", "")
    PAGE_MAX_AGE = _int("PAGE_MAX_AGE", 10)

    # JSON API: the limit on public sign-ups through it, and page sizes of its lists.
    # Per client address, and per email address signed up (which an attacker cannot multiply). The
    # first is generous: a website or CRM relaying sign-ups for many people calls from one address.
    RATELIMIT_API_REGISTER = os.environ.get("RATELIMIT_API_REGISTER", "300 per minute")
    RATELIMIT_API_REGISTER_PER_ADDRESS = os.environ.get("RATELIMIT_API_REGISTER_PER_ADDRESS", "5 per minute")
    API_PER_PAGE = _int("API_PER_PAGE", 20)
    API_MAX_PER_PAGE = _int("API_MAX_PER_PAGE", 100)
    # How long (seconds) an embedded sign-up form may be sent after it was shown.
    EMBED_FORM_MAX_AGE = _int("EMBED_FORM_MAX_AGE", 6 * 3600)
    # Days after a webinar when the worker replaces its attendees' personal data (see README, Privacy).
    RETENTION_DAYS = _int("RETENTION_DAYS", 365)
    # Participant reports (Zoom, Teams, Meet) larger than this are refused with a message on the form.
    ATTENDANCE_UPLOAD_MAX_BYTES = _int("ATTENDANCE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    # Pictures (covers, speaker photos): where they are kept and what an upload may be.
    # IMAGE_STORAGE "local" keeps them in IMAGE_FOLDER (relative paths are inside the instance folder);
    # IMAGE_BASE_URL, when set, is where browsers fetch them instead of the app (a CDN or bucket website).
    IMAGE_STORAGE = os.environ.get("IMAGE_STORAGE", "local")
    IMAGE_FOLDER = os.environ.get("IMAGE_FOLDER", "images")
    IMAGE_BASE_URL = os.environ.get("IMAGE_BASE_URL", "")
    IMAGE_MAX_BYTES = _int("IMAGE_MAX_BYTES", 8 * 1024 * 1024)
    # Width × height, read from the file's header before decoding: a decompression bomb is refused unopened.
    IMAGE_MAX_PIXELS = _int("IMAGE_MAX_PIXELS", 40_000_000)
    # Webinars are free; search engines still want a currency beside the price 0 in their event data.
    OFFER_CURRENCY = os.environ.get("OFFER_CURRENCY", "EUR")
    # Any request body beyond this is refused before it is read (413).
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)


class DevelopmentConfig(Config):
    DEBUG = True
    SETUP_OPEN = _bool("SETUP_OPEN", True)
    SECRET_KEY = Config.SECRET_KEY or "development-only-not-secret"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL")) or "sqlite://"
    BASE_URL = "http://webinars.test"
    MAIL_SERVER = None
    RATELIMIT_ENABLED = False
    SETUP_OPEN = True
    MAIL_RETRY_DELAYS = (10, 30, 60, 300, 900)


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


configs: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
