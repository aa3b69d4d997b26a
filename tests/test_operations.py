"""Headers, error pages, health checks, metrics, logs and the configuration check."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.request import urlopen

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from tests.factories import PASSWORD, make_event, make_user
from tests.helpers import free_port, submit
from tests.servers import ROOT, app_env, running
from webinars import create_app
from webinars.extensions import db
from webinars.mail.outbox import enqueue
from webinars.registrations.service import register
from webinars.security import content_security_policy, csp_sources

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    assert submit(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_pages_carry_a_nonce_policy_and_no_inline_script(app_factory):
    site = app_factory()  # no app context held open: each request has its own, as in production
    with site.app_context():
        owner = make_user(admin=True)
        event = make_event(owner)
        register(event, name="Ana", email="ana@example.org", consent=True)
        event_id, slug, email = event.id, event.slug, owner.email
    client = site.test_client()
    assert submit(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302
    nonces = set()
    for url in (
        "/",
        f"/webinars/{slug}",
        "/past",
        "/series",
        "/manage/",
        f"/manage/webinars/{event_id}",
        f"/manage/webinars/{event_id}/registrations",
        f"/manage/webinars/{event_id}/messages/new",
        "/manage/organizers",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert "default-src 'self'" in policy
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        nonces.add(re.search(r"'nonce-([^']+)'", policy).group(1))
        page = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), url
        assert not INLINE_HANDLER.search(page), url
        assert not INLINE_STYLE.search(page), url
        assert response.headers["Permissions-Policy"].startswith("camera=()")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(nonces) == 9  # a fresh one per response


def test_hsts_only_when_the_site_is_https(app_factory):
    assert "Strict-Transport-Security" not in app_factory().test_client().get("/").headers
    secure = app_factory(BASE_URL="https://webinars.example.org").test_client().get("/")
    assert secure.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_a_view_can_widen_its_own_policy(app_factory):
    site = app_factory()

    @content_security_policy(frame_ancestors=["https://partner.example.org"])
    def embeddable() -> str:
        csp_sources("img-src", "https://images.example.org")
        return "embed me"

    site.add_url_rule("/embed-test", view_func=embeddable)
    response = site.test_client().get("/embed-test")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://partner.example.org" in policy
    assert "img-src 'self' data: https://images.example.org" in policy
    assert "X-Frame-Options" not in response.headers
    # Other responses keep the default.
    assert "frame-ancestors 'none'" in site.test_client().get("/").headers["Content-Security-Policy"]


def test_a_database_error_still_gets_the_sites_error_page(app_factory):
    site = app_factory(PROPAGATE_EXCEPTIONS=False)  # answer as in production, not raise into the test
    with site.app_context():
        organizer = make_user()
        email = organizer.email

    def broken() -> str:
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    site.add_url_rule("/broken-test", view_func=broken)
    client = site.test_client()
    assert submit(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302
    assert client.get("/manage/").status_code == 200
    response = client.get("/broken-test")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert client.get("/manage/").status_code == 200  # the session survived the error


def test_error_pages_and_health_need_no_database(tmp_path):
    down = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        SQLALCHEMY_ENGINE_OPTIONS={},
        PROPAGATE_EXCEPTIONS=False,
    )
    client = down.test_client()
    page = client.get("/webinars/some-webinar")
    assert page.status_code == 500
    assert "Something went wrong" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("unreachable")


@pytest.mark.parametrize(
    "url",
    [
        "/manage/webinars/100000000000000000000",
        "/manage/webinars/2147483648/edit",
        "/webinars/a%00b",
        "/r/%00",
        "/webinars/" + "x" * 5000,
        "/series/%01/calendar.ics",
    ],
)
def test_absurd_path_values_are_not_found(client, app, url):
    sign_in(client, make_user(admin=True))
    assert client.get(url).status_code == 404


def test_control_characters_in_the_query_are_a_bad_request(client, app):
    assert client.get("/past?q=%00").status_code == 400
    assert client.get("/?page=1%00").status_code == 400


def migrated_app(tmp_path: Path, **overrides):  # type: ignore[no-untyped-def]
    os.environ["WEBINARS_INSTANCE"] = str(tmp_path)
    try:
        site = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'ready.db'}",
            SQLALCHEMY_ENGINE_OPTIONS={},
            **overrides,
        )
    finally:
        os.environ.pop("WEBINARS_INSTANCE", None)
    with site.app_context():
        upgrade()
    return site


@pytest.mark.sqlite_only
def test_readiness_follows_migrations_and_the_outbox(tmp_path, frozen_clock):
    site = migrated_app(tmp_path, READY_MAX_OUTBOX_AGE=600)
    client = site.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "migrations": "ok", "outbox": "ok"}
    assert ready.headers["Cache-Control"] == "no-store"

    with site.app_context():
        enqueue(kind="test", recipient="a@example.org", subject="s", body_text="b")
        db.session.commit()
    frozen_clock.advance(seconds=599)
    assert client.get("/readyz").status_code == 200
    frozen_clock.advance(seconds=2)
    late = client.get("/readyz")
    assert late.status_code == 503
    assert "oldest due message waited 601 s" in late.json["checks"]["outbox"]

    with site.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    assert "database at ['0001']" in client.get("/readyz").json["checks"]["migrations"]


def test_readiness_fails_on_a_database_without_migrations(client, app):
    response = client.get("/readyz")  # the test database is built from the models, not the migrations
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert "database at none" in response.json["checks"]["migrations"]


def metric(body: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_signups_and_the_outbox(client, app, frozen_clock):
    event = make_event(capacity=1)
    before = client.get("/metrics").get_data(as_text=True)
    form = {"name": "Ana", "email": "ana@example.org", "consent": "y"}
    assert submit(client, f"/webinars/{event.slug}", form).status_code == 302
    assert submit(client, f"/webinars/{event.slug}", {**form, "email": "ben@example.org"}).status_code == 302
    assert submit(client, f"/webinars/{event.slug}", form).status_code == 302
    assert submit(client, f"/webinars/{event.slug}", {**form, "email": "not an address"}).status_code == 400
    frozen_clock.advance(seconds=42)
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    body = response.get_data(as_text=True)

    def grew(name: str) -> float:
        return metric(body, name) - metric(before, name)

    assert grew('webinars_signups_total{outcome="confirmed"}') == 1
    assert grew('webinars_signups_total{outcome="waitlisted"}') == 1
    assert grew('webinars_signups_total{outcome="repeated"}') == 1
    assert grew('webinars_signups_total{outcome="invalid"}') == 1
    assert grew('webinars_http_requests_total{endpoint="events.register",status="302"}') == 3
    queued = metric(body, 'webinars_outbox_messages{status="queued"}')
    assert queued >= 2
    assert metric(body, 'webinars_outbox_messages{status="sent"}') == 0
    assert metric(body, "webinars_outbox_oldest_due_age_seconds") == 42
    # Paths never become labels: a hostile path is one "unmatched" series.
    client.get("/no/such/" + "x" * 300)
    assert "x" * 300 not in client.get("/metrics").get_data(as_text=True)


def test_metrics_can_require_a_token(app_factory):
    client = app_factory(METRICS_TOKEN="scrape-secret").test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_the_worker_writes_its_metrics_for_the_textfile_collector(app, tmp_path):
    make_event()  # an organizer and a webinar, no mail yet
    enqueue(kind="test", recipient="a@example.org", subject="s", body_text="b")
    db.session.commit()
    target = tmp_path / "webinars_worker.prom"
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--metrics-textfile", str(target)])
    assert result.exit_code == 0, result.output
    body = target.read_text()
    assert 'webinars_mail_deliveries_total{outcome="sent"}' in body
    assert 'webinars_outbox_messages{status="sent"} 1.0' in body


def test_request_ids_and_json_log_lines(app_factory, capsys):
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [handler for handler in saved if handler.get_name() != "webinars"]
    try:
        site = app_factory(LOG_FORMAT="json")
        response = site.test_client().get("/", headers={"X-Request-ID": "req-12345"})
        assert response.headers["X-Request-ID"] == "req-12345"
        forged = site.test_client().get("/", headers={"X-Request-ID": "not an id; drop table"})
        assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        for handler in root.handlers:
            if handler not in saved:
                root.removeHandler(handler)
        root.handlers = saved
    entry = next(line for line in lines if line.get("request_id") == "req-12345")
    assert entry["logger"] == "webinars.request"
    assert entry["status"] == 200
    assert entry["path"] == "/"


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webinars", "check", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_reports_misconfiguration(tmp_path):
    env = app_env(
        tmp_path, BASE_URL="http://webinars.example.org", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(free_port())
    )
    del env["SECRET_KEY"]
    result = run_check(env)
    assert result.returncode == 1
    assert "problem: SECRET_KEY is not set." in result.stderr
    assert "problem: BASE_URL uses http in production" in result.stderr
    assert "The SMTP server 127.0.0.1:" in result.stderr
    assert "not at the latest migration" in result.stderr


def test_check_sends_a_test_email_through_the_outbox(tmp_path, smtp_sink):
    env = app_env(
        tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_sink.port), RATELIMIT_STORAGE_URI="redis://"
    )
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webinars", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    result = run_check(env, "--send-test", "ops@example.org")
    assert result.returncode == 0, result.stderr
    assert "Configuration OK." in result.stdout
    assert "Queued test message" in result.stdout
    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webinars", "worker", "--once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "Handled 1 message(s)." in worker.stdout, worker.stderr
    assert [message["To"] for message in smtp_sink.messages()] == ["ops@example.org"]


def test_sign_ups_go_on_when_the_rate_limit_store_is_down(app_factory):
    site = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
        RATELIMIT_REGISTER="2 per minute",
    )
    with site.app_context():
        slug = make_event().slug
    client = site.test_client()
    form = {"name": "Ana", "consent": "y"}
    outcomes = [
        submit(client, f"/webinars/{slug}", {**form, "email": f"ana{n}@example.org"}).status_code
        for n in range(3)
    ]
    # Counted in this process's memory meanwhile: still limited, never a 500.
    assert outcomes == [302, 302, 429]


def test_a_running_worker_serves_its_metrics_on_a_port(tmp_path):
    env = app_env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webinars", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "webinars", "worker", "--metrics-port", str(port)]
    with (
        running(command, port, tmp_path / "worker.log", env),
        urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response,
    ):
        body = response.read().decode()
    assert 'webinars_outbox_messages{status="queued"} 0.0' in body
    assert "webinars_outbox_oldest_due_age_seconds 0.0" in body
