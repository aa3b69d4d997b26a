"""Through a real PgBouncer in transaction pooling mode (Debian's package), with psycopg preparing no
statements: four app instances sign up 400 people for 80 seats through the form, two workers deliver
the mail; exactly 80 are confirmed, each gets one invitation, no request fails. (`make bench` runs
10,000 people for 2,000 seats through gunicorn; here the instances share one process and its GIL.)

PgBouncer passes no ``options`` startup parameter on, so the test's schema comes from a role of its
own whose default search_path is that schema (PgBouncer logs in as that role: auth_type any).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import PG_URL, free_port, require
from tests.mailsink import MailSink
from webinars import create_app
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import Registration, RegistrationStatus

PEOPLE, SEATS, INSTANCES, THREADS, MAIL_WORKERS = 400, 80, 4, 16, 2
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _admin(*statements: str) -> None:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def _reachable() -> bool:
    try:
        _admin("SELECT 1")
    except Exception:
        return False
    return True


@pytest.fixture
def pgbouncer_url() -> Iterator[str]:
    require(os.path.exists(PGBOUNCER), "pgbouncer is not installed (make deps)")
    require(_reachable(), f"PostgreSQL is not reachable at {PG_URL}")
    name = f"webinars_pgbouncer_{os.getpid()}"
    _admin(
        f'DROP SCHEMA IF EXISTS "{name}" CASCADE',
        f'DROP ROLE IF EXISTS "{name}"',
        f'CREATE ROLE "{name}" LOGIN',
        f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"',
        f'ALTER ROLE "{name}" SET search_path = "{name}"',
    )
    target = sa.engine.make_url(PG_URL)
    port = free_port()
    # PgBouncer refuses to run as root: then it runs as PostgreSQL's user, from a folder it can read.
    as_root = os.geteuid() == 0
    home = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    home.chmod(0o777)
    ini = home / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"test = host={target.host} port={target.port or 5432} dbname={target.database} user={name}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\ndefault_pool_size = 10\nmax_client_conn = 500\n"
        f"logfile = {home / 'pgbouncer.log'}\nignore_startup_parameters = extra_float_digits\n"
    )
    ini.chmod(0o644)
    command = [PGBOUNCER, *(["-u", "postgres"] if as_root else []), str(ini)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, (home / "pgbouncer.log").read_text()
            assert time.monotonic() < deadline, "PgBouncer did not start listening"
            time.sleep(0.1)
        yield f"postgresql+psycopg://test@127.0.0.1:{port}/test"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
        _admin(f'DROP OWNED BY "{name}"', f'DROP ROLE IF EXISTS "{name}"')


def _instance(url: str, sink: MailSink) -> Flask:
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": THREADS // INSTANCES + 1,
            "max_overflow": 0,
            "pool_timeout": 60,
        },
        DATABASE_TRANSACTION_POOLING=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        MAIL_TIMEOUT=10,
    )


def test_a_crowd_signs_up_through_pgbouncer_in_transaction_mode(pgbouncer_url, smtp_sink):
    from tests.factories import make_event

    instances = [_instance(pgbouncer_url, smtp_sink) for _ in range(INSTANCES)]
    with instances[0].app_context():
        assert db.engine.dialect.name == "postgresql"
        with db.engine.connect() as connection:  # the pool really is PgBouncer's, preparing nothing
            assert connection.connection.dbapi_connection.prepare_threshold is None
        db.create_all()
        slug = make_event(capacity=SEATS).slug
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def sign_up(n: int) -> None:
        app = instances[n % INSTANCES]
        client = app.test_client()
        with app.app_context():
            page = client.get(f"/webinars/{slug}")
        token = TOKEN.search(page.get_data(as_text=True))
        form = {"csrf_token": token.group(1) if token else "", "name": f"Person {n}", "consent": "y"}
        with app.app_context():
            posted = client.post(f"/webinars/{slug}", data={**form, "email": f"person{n}@example.org"})
        with lock:
            answers[page.status_code * 1000 + posted.status_code] += 1

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(sign_up, range(PEOPLE)))

    def deliver(app: Flask) -> None:
        with app.app_context():
            worker.deliver_due()

    mail_workers = [threading.Thread(target=deliver, args=(instances[n],)) for n in range(MAIL_WORKERS)]
    for thread in mail_workers:
        thread.start()
    for thread in mail_workers:
        thread.join(timeout=300)

    assert answers == Counter({200_302: PEOPLE})  # every page 200, every sign-up answered 302
    with instances[0].app_context():
        statuses = Counter(db.session.scalars(sa.select(Registration.status)))
        confirmed = set(
            db.session.scalars(
                sa.select(Registration.email).where(Registration.status == RegistrationStatus.CONFIRMED)
            )
        )
    assert statuses == {RegistrationStatus.CONFIRMED: SEATS, RegistrationStatus.WAITLISTED: PEOPLE - SEATS}
    invitations = Counter(
        recipient
        for received in smtp_sink.received
        if "text/calendar" in received.raw.decode("utf-8", "replace")
        for recipient in received.rcpt_tos
    )
    assert set(invitations) == confirmed
    assert set(invitations.values()) == {1}
    for app in instances:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
