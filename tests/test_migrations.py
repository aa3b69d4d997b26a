"""The Alembic revisions build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask_migrate import check, upgrade

from tests.helpers import PG_URL, require
from webinars import create_app
from webinars.extensions import db


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
