"""Database helpers: UTC datetimes everywhere, and SQLite tuned for several writers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Engine, event, select
from sqlalchemy.types import TypeDecorator

from .extensions import db

_begin_immediate: ContextVar[bool] = ContextVar("sqlite_begin_immediate", default=False)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC.

    PostgreSQL keeps it as timestamptz; SQLite has no such type, so the value is stored naive in UTC
    and made aware again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and explicit BEGIN so writers can take the lock up front.

    A deferred SQLite transaction that reads and then writes fails at once with "database is locked"
    when another connection committed in between; BEGIN IMMEDIATE waits for the lock instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below emits BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block intend to write (SQLite takes its write lock at BEGIN).

    A read transaction already open on SQLite is ended first, so the writes start from a fresh
    BEGIN IMMEDIATE instead of failing to upgrade a stale snapshot.
    """
    session = db.session()  # the current scoped session itself
    if (
        not _begin_immediate.get()
        and session.in_transaction()
        and session.get_bind().dialect.name == "sqlite"
    ):
        session.commit()
    token = _begin_immediate.set(True)
    try:
        yield
    finally:
        _begin_immediate.reset(token)


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A connection of its own, outside any transaction, for one statement that stands alone (on
    PostgreSQL: no BEGIN and no COMMIT or ROLLBACK round trips around it). Not for SQLite, whose
    explicit BEGIN (configure_sqlite) it would bypass."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def set_writing(value: bool) -> None:
    """Mark the current context (a request) as one that writes; see writing()."""
    _begin_immediate.set(value)


def unique_slug(model: Any, base: str, exclude_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever ``model`` does not use yet."""
    slug, n = base, 1
    while True:
        query = select(model.id).where(model.slug == slug)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if db.session.execute(query).first() is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


# Integer primary keys on PostgreSQL (and what SQLite accepts without an OverflowError) stop here.
MAX_ID = 2**31 - 1


_Model = TypeVar("_Model")


def get_by_id(model: type[_Model], identifier: int) -> _Model | None:
    """``db.session.get`` for an id from a URL or a form: one no table can hold finds nothing."""
    if not 0 < identifier <= MAX_ID:
        return None
    return db.session.get(model, identifier)
