"""What test modules share besides fixtures: forms with CSRF, signing in, a movable clock, SQL statement
counting, reading received mail, and the rule for a real part that is missing.

Test modules import from here (and from factories, mailsink, calendar_parsers), never from each other
or from a conftest, so moving a test never breaks another module.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from types import ModuleType
from typing import Any, NoReturn

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from werkzeug.test import TestResponse

from tests.factories import PASSWORD
from webinars import clock
from webinars.extensions import db
from webinars.models import User

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"webinars_test_{os.getpid()}"


# --- real parts that may be missing -----------------------------------------------------------------


def missing(reason: str) -> NoReturn:
    """Skip the test: a real part it needs is missing. Under CI=true, fail instead, so a machine
    that lost a tool cannot pass by skipping."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


def require(condition: bool, reason: str) -> None:
    """``missing(reason)`` unless ``condition`` holds."""
    if not condition:
        missing(reason)


def import_or_skip(module: str, reason: str) -> ModuleType:
    """``pytest.importorskip`` outside CI; under CI=true a missing module fails the run instead of
    quietly skipping the tests that need it."""
    if not IN_CI:
        return pytest.importorskip(module, reason=reason)
    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"{reason} (required when CI=true): {error}", pytrace=False)


def pg_engine_options() -> dict[str, Any]:
    return {"connect_args": {"options": f"-c search_path={PG_SCHEMA}"}, "pool_size": 10, "max_overflow": 40}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- forms and signing in ---------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1) or match.group(2)


def submit(
    client: FlaskClient, url: str, data: dict[str, Any], *, form_page: str | None = None, **kwargs: Any
) -> TestResponse:
    """POST a form the way a browser does: with the CSRF token from the page that shows it."""
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, form_page or url)
    return client.post(url, data=payload, **kwargs)


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> TestResponse:
    """Sign ``user`` in through the login form."""
    response = submit(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, f"login of {user.email} failed: {response.get_data(as_text=True)}"
    return response


def logout(client: FlaskClient) -> TestResponse:
    response = submit(client, "/logout", {}, form_page="/manage/")
    assert response.status_code == 302, f"logout failed with {response.status_code}"
    return response


class AuthActions:
    """Sign in and out through the real forms (the ``auth`` fixture, as in Flask's tutorial); for a
    client of another app, call ``login(client, user)`` directly."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User, password: str = PASSWORD) -> TestResponse:
        return login(self.client, user, password)

    def logout(self) -> TestResponse:
        return logout(self.client)


def register_form(name: str = "Ana", email: str = "ana@example.org", **extra: object) -> dict[str, object]:
    """What a visitor types into a webinar's registration form (``extra``: answers, a honeypot...)."""
    return {"name": name, "email": email, "organisation": "", "consent": "y", **extra}


def webinar_form(**overrides: object) -> dict[str, object]:
    """What an organizer types into the new/edit webinar form: a webinar 20 days ahead (``overrides``
    may hold uploads as (stream, file name) pairs)."""
    start = clock.now() + timedelta(days=20)
    data: dict[str, object] = {
        "title": "Webinar #17: Circular Economy in Latin America",
        "summary": "Policies and cases.",
        "description": "A *conversation*.",
        "start_date": start.strftime("%Y-%m-%d"),
        "start_time": "16:00",
        "timezone": "America/Santiago",
        "duration": "90",
        "join_url": "https://meet.example.org/room-17",
        "capacity": "40",
        "reminders": "1440, 60",
        "speakers-0-name": "Camila Rojas",
        "speakers-0-affiliation": "Universidad de Chile",
        "speakers-1-name": "Ane Etxeberria",
        "speakers-1-affiliation": "Orkestra",
    }
    data.update(overrides)
    return data


# --- time and workers -------------------------------------------------------------------------------


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


def deliver_with_workers_at_once(apps: list[Flask]) -> list[int]:
    """One mail worker pass per app (each its own engine, standing in for a machine), released
    together; returns how many messages each handled. A worker's exception fails the test."""
    from concurrent.futures import ThreadPoolExecutor

    from webinars.mail import worker

    start = threading.Barrier(len(apps))

    def run(app: Flask) -> int:
        with app.app_context():
            start.wait(timeout=60)
            try:
                return worker.deliver_due()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        return list(pool.map(run, apps, timeout=120))


# --- SQL statement counts (the N+1 harness) ---------------------------------------------------------


# Transaction control is not a query, and whether it reaches the cursor differs by database (the
# SQLite engine issues its own BEGIN): counting it would make one page's numbers differ by backend.
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL queries the app's engine runs inside the block, whitespace collapsed."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        collapsed = " ".join(statement.split())
        if not collapsed.upper().startswith(_TRANSACTION_CONTROL):
            statements.append(collapsed)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)


def fresh_get(client: FlaskClient, url: str) -> TestResponse:
    """GET in an app context of its own, as in production: an empty session, nothing cached in g."""
    with current_app.app_context():
        return client.get(url)


def statements_of_get(client: FlaskClient, url: str, *, warm_up: bool = False) -> list[str]:
    """The SQL statements of one GET of ``url`` in a fresh app context. Caches are left as they are;
    ``warm_up`` GETs the page once before counting, so the count is that of a warm process."""
    if warm_up:
        warm = fresh_get(client, url)
        assert warm.status_code == 200, f"GET {url} answered {warm.status_code}"
    with recorded_statements() as statements:
        response = fresh_get(client, url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return statements


def assert_same_count(few: list[str], many: list[str], *, what: str = "statements") -> None:
    """The same number of statements for a few rows as for many: no query per row."""
    assert len(many) == len(few), "\n".join(
        [f"{what}: {len(few)} statements with few rows:", *few, f"{len(many)} statements with many:", *many]
    )


# --- received mail ----------------------------------------------------------------------------------


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def by_recipient(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if address in str(m["To"])]


def calendar_of(message: EmailMessage) -> tuple[bytes, str] | None:
    """The text/calendar part's bytes and its Content-Type method, checked against the attachment."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    assert len(parts) == 1, f"{len(parts)} text/calendar parts"
    inline = parts[0]
    body = inline.get_payload(decode=True)
    method = inline.get_param("method")
    attachments = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert len(attachments) == 1, "invite.ics attachment missing"
    assert attachments[0].get_payload(decode=True) == body, "the attachment differs from the inline calendar"
    assert attachments[0].get_param("method") == method, "the attachment's method differs from the inline one"
    return body, method  # type: ignore[return-value]
