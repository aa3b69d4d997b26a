"""Fixtures: the app on SQLite and on PostgreSQL, a test client and ``auth`` to sign in, a movable clock,
an SMTP sink. Helpers that are not fixtures live in tests/helpers.py.

Every test that uses ``app`` runs twice, once per database. PostgreSQL is taken from TEST_DATABASE_URL
(default: the local server on 127.0.0.1:5432, database ``test``); each test run works in a schema of
its own. Where a real part is missing the test skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import (
    PG_SCHEMA,
    PG_URL,
    AuthActions,
    FrozenClock,
    free_port,
    import_or_skip,
    pg_engine_options,
    require,
)
from webinars import clock, create_app
from webinars.calendar import feeds
from webinars.extensions import db

if TYPE_CHECKING:
    from tests.mailsink import MailSink


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """Create this run's schema and tables once; drop them at the end."""
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            connection.execute(sa.text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    except sa.exc.OperationalError:
        engine.dispose()
        yield None
        return
    yield PG_SCHEMA
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
    engine.dispose()


_pg_tables_ready = False


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app_factory(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Flask]]:
    """Build apps that share this test's database (several apps stand in for several processes)."""
    global _pg_tables_ready
    if backend == "postgresql":
        schema = request.getfixturevalue("postgres_schema")
        require(schema is not None, f"PostgreSQL is not reachable at {PG_URL}")
        url, options = PG_URL, pg_engine_options()
    else:
        url, options = f"sqlite:///{tmp_path / 'webinars.db'}", {}
    instance = tmp_path / "instance"
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        settings = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        }
        settings.update(overrides)
        os.environ["WEBINARS_INSTANCE"] = str(instance)
        try:
            made = create_app("testing", **settings)
        finally:
            os.environ.pop("WEBINARS_INSTANCE", None)
        apps.append(made)
        return made

    feeds.clear_cache()  # ids and frozen clocks repeat from test to test
    first = make()
    with first.app_context():
        if backend == "postgresql":
            if not _pg_tables_ready:
                db.create_all()
                _pg_tables_ready = True
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        else:
            db.create_all()
    apps.remove(first)
    apps.append(first)
    # The app that made the tables is the first one handed out: building an app costs more than
    # many a test (its routes and its API description), and most tests want one with no overrides.
    unused = [first]

    def make_or_reuse(**overrides: Any) -> Flask:
        if not overrides and unused:
            return unused.pop()
        return make(**overrides)

    yield make_or_reuse
    for made in apps:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    made = app_factory()
    with made.app_context():
        yield made
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """``auth.login(user)`` / ``auth.logout()`` through the forms, for the ``client`` fixture."""
    return AuthActions(client)


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    frozen = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)


@pytest.fixture
def smtp_sink() -> Iterator[MailSink]:
    import_or_skip("aiosmtpd", "aiosmtpd is not installed (pip install -e '.[dev]')")
    from tests.mailsink import MailSink

    sink = MailSink(free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_app(app_factory: Callable[..., Flask], smtp_sink: MailSink) -> Iterator[Flask]:
    """The app with its worker delivering to the loopback SMTP sink."""
    made = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, MAIL_TIMEOUT=5)
    with made.app_context():
        yield made
        db.session.remove()
