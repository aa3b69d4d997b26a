"""The Alembic revisions build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import check, upgrade

from tests.helpers import PG_URL, require
from webinars import create_app
from webinars.extensions import db
from webinars.models import Event, EventKind


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}", {}
        return
    schema = f"webinars_migrations_{os.getpid()}"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError:
        require(False, f"PostgreSQL is not reachable at {PG_URL}")
    yield PG_URL, {"connect_args": {"options": f"-c search_path={schema}"}}
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_migrations_match_the_models(empty_database, tmp_path):
    url, options = empty_database
    os.environ["WEBINARS_INSTANCE"] = str(tmp_path)
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options)
    finally:
        os.environ.pop("WEBINARS_INSTANCE")
    with app.app_context():
        upgrade()
        check()  # raises SystemExit when the models need a revision the migrations lack
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"event", "registration", "outbox_message", "reminder_delivery", "series"} <= tables
        db.engine.dispose()


def test_existing_webinars_get_their_end_time_when_the_life_cycle_revision_runs(empty_database, tmp_path):
    url, options = empty_database
    os.environ["WEBINARS_INSTANCE"] = str(tmp_path)
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options)
    finally:
        os.environ.pop("WEBINARS_INSTANCE")
    with app.app_context():
        upgrade(revision="0001")
        starts = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    'INSERT INTO "user" (id, email, name, password_hash, is_admin, created_at) '
                    "VALUES (1, 'a@example.org', 'A', 'x', false, :now)"
                ),
                {"now": _stored(starts, db.engine)},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO event (id, owner_id, title, slug, summary, description_md, starts_at, "
                    "duration_minutes, timezone, join_url, seats_taken, status, ical_uid, sequence, "
                    "created_at, updated_at, reminder_offsets, recording_url, recording_summary) VALUES "
                    "(1, 1, 'T', 't', '', '', :starts, 90, 'UTC', '', 0, 'published', 'u', 0, :starts, "
                    ":starts, '', '', '')"
                ),
                {"starts": _stored(starts, db.engine)},
            )
        upgrade()
        event = db.session.get(Event, 1)
        assert event.ends_at == starts + timedelta(minutes=90)
        assert event.kind == EventKind.WEBINAR
        db.session.remove()
        db.engine.dispose()


def _stored(moment: datetime, engine: sa.Engine) -> object:
    """A UTC instant as the UTCDateTime type writes it on this database."""
    return moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment
