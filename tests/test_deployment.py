"""The service as deployed: a built wheel outside the checkout, gunicorn behind a real nginx, rate
limits shared through Redis by two processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest

from tests.helpers import require
from tests.servers import (
    Client,
    app_env,
    free_port,
    gunicorn,
    nginx,
    nginx_binary,
    running,
    seed_published_webinar,
    sign_up,
)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    try:
        import redis
    except ImportError:
        return False
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def test_built_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    outside = tmp_path / "deploy"
    outside.mkdir()
    dist = tmp_path / "dist"
    # sdist first, wheel from the sdist: proves both carry the files, with no build/ left in the checkout.
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob("webinars-*.whl"))
    venv = outside / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python]
    # The project only from the wheel. Its dependencies are this checkout's, seen through a .pth
    # file, instead of forty packages installed again: a fresh install is `make install`'s
    # business, and `pip check` below still proves the wheel declares what the app needs.
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
        cwd=outside,
    )
    dependencies = sysconfig.get_paths()["purelib"]
    installed = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(installed) / "zz-dependencies.pth").write_text(dependencies + "\n")
    checked = subprocess.run([*pip, "check"], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    env = app_env(outside, WEBINARS_INSTANCE=str(outside / "instance"))
    env.pop("PYTHONPATH", None)

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", "flask", "--app", "webinars", *args],
            env=env,
            cwd=outside,
            capture_output=True,
            text=True,
            timeout=120,
        )

    located = subprocess.run(
        [
            python,
            "-c",
            "import webinars, config; print(webinars.__file__, config.__file__)",
        ],
        env=env,
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in located
    assert str(venv) in located

    upgraded = flask("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "i11_production" in upgraded.stderr or "Running upgrade" in upgraded.stderr

    link = flask("organizers", "setup-link")
    assert link.returncode == 0, link.stderr
    assert re.match(r"https://webinars\.example\.org/setup/\S+$", link.stdout.strip())

    port = free_port()
    log = outside / "gunicorn.log"
    command = [python, "-m", "gunicorn", "-c", "python:webinars.gunicorn_config", "-w", "1"]
    with running([*command, "-b", f"127.0.0.1:{port}", "webinars:create_app()"], port, log, env):
        client = Client(port)
        status, headers, page = client.get("/")
        assert status == 200, page[-2000:]
        assert "Content-Security-Policy" in {k.title() for k in headers}
        assert client.get("/static/site.js")[0] == 200
        status, _headers, page = client.get("/?lang=es")
        assert status == 200
        assert ">Próximos<" in page
        status, _headers, body = client.get("/readyz")
        assert status == 200, body
        # The one-time link opens the set-up page, which is closed without it.
        assert client.get("/setup")[0] == 404
        assert client.get("/setup/" + link.stdout.strip().rsplit("/", 1)[1])[0] == 200

    worker = flask("worker", "--once")
    assert worker.returncode == 0, worker.stderr
    assert "Handled 0 message(s)." in worker.stdout


@pytest.fixture
def webinar_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(**settings: str) -> tuple[dict[str, str], str]:
        env = app_env(tmp_path, **settings)
        return env, seed_published_webinar(env)

    return make


def test_behind_nginx_clients_are_told_apart_only_when_the_proxy_is_trusted(tmp_path: Path, webinar_env):
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx-light)")
    limits = {"RATELIMIT_REGISTER": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}
    env, slug = webinar_env(**limits)
    trusting = {**env, "TRUSTED_PROXIES": "1"}
    untrusting = {**env, "TRUSTED_PROXIES": "0"}
    with (
        gunicorn(trusting, tmp_path / "trusting.log") as trusting_port,
        gunicorn(untrusting, tmp_path / "untrusting.log") as untrusting_port,
        nginx(tmp_path, {trusting_port: 0, untrusting_port: 0}) as tls_ports,
    ):
        # Trusted: each visitor (a different loopback address) has a bucket of their own.
        ana = Client(tls_ports[trusting_port], tls=True, source="127.0.0.2")
        ben = Client(tls_ports[trusting_port], tls=True, source="127.0.0.3")
        assert [sign_up(ana, slug, f"ana{n}@example.org") for n in range(3)] == [302] * 3
        assert sign_up(ana, slug, "ana4@example.org") == 429
        assert sign_up(ben, slug, "ben@example.org") == 302
        # Links the app builds from the request follow the proxy's scheme and host.
        page = ana.get(f"/webinars/{slug}")[2]
        port = tls_ports[trusting_port]
        assert f'<link rel="canonical" href="https://localhost:{port}/webinars/{slug}">' in page

        # Not trusted: everyone behind nginx is nginx, and a forged header changes nothing.
        carla = Client(tls_ports[untrusting_port], tls=True, source="127.0.0.2")
        dani = Client(tls_ports[untrusting_port], tls=True, source="127.0.0.3")
        assert [sign_up(carla, slug, f"carla{n}@example.org") for n in range(3)] == [302] * 3
        assert sign_up(dani, slug, "dani@example.org") == 429
        page = carla.get(f"/webinars/{slug}")[2]
        assert f'<link rel="canonical" href="http://localhost/webinars/{slug}">' in page

        # Straight to the app, a forged header is ignored too: 127.0.0.1 is nginx's full bucket.
        direct = Client(untrusting_port)
        form = {"name": "Eve", "email": "eve@example.org", "consent": "y"}
        assert direct.submit(f"/webinars/{slug}", form, headers={"X-Forwarded-For": "203.0.113.9"})[0] == 429


def test_nginx_keeps_public_pages_without_anyone_s_token(tmp_path: Path, webinar_env):
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx-light)")
    env, slug = webinar_env(TRUSTED_PROXIES="1")
    with gunicorn(env, tmp_path / "app.log") as port, nginx(tmp_path, {port: 0}, cache=True) as tls_ports:
        page = f"/webinars/{slug}"
        first = Client(tls_ports[port], tls=True).get(page)
        second = Client(tls_ports[port], tls=True).get(page)

        assert (first[0], second[0]) == (200, 200)
        assert first[1]["x-cache-status"] == "MISS"
        assert second[1]["x-cache-status"] == "HIT"
        assert "set-cookie" not in second[1]
        assert 'name="csrf_token" type="hidden" value=""' in second[2]
        # A visitor with a session passes the cache and gets a page with their own token.
        visitor = Client(tls_ports[port], tls=True)
        assert visitor.get("/csrf-token")[0] == 200
        status, headers, own = visitor.get(page)
        assert headers["x-cache-status"] == "BYPASS"
        assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', own)
        form = {"name": "Ana", "email": "ana@example.org", "consent": "y"}
        assert visitor.submit(page, form)[0] == 302


def test_two_app_processes_share_the_rate_limit_through_redis(tmp_path: Path, webinar_env):
    require(redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
    prefix = f"webinars-test-{uuid.uuid4().hex}"
    env, slug = webinar_env(
        RATELIMIT_REGISTER="5 per minute", RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix
    )
    try:
        with gunicorn(env, tmp_path / "a.log") as port_a, gunicorn(env, tmp_path / "b.log") as port_b:
            first, second = Client(port_a), Client(port_b)
            outcomes = [sign_up(first, slug, f"a{n}@example.org") for n in range(3)]
            outcomes += [sign_up(second, slug, f"b{n}@example.org") for n in range(2)]
            assert outcomes == [302] * 5
            # Five between the two processes: the sixth is refused by either.
            assert sign_up(first, slug, "a9@example.org") == 429
            assert sign_up(second, slug, "b9@example.org") == 429
    finally:
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"{prefix}*"):
            connection.delete(key)


def test_a_classroom_behind_one_address_registers_60_people_in_a_minute(tmp_path: Path, webinar_env):
    """Production defaults: one NAT address, sixty people, one after the other."""
    env, slug = webinar_env(RATELIMIT_STORAGE_URI="memory://")
    with gunicorn(env, tmp_path / "app.log") as port:
        outcomes = [sign_up(Client(port), slug, f"student{n}@school.example.org") for n in range(60)]
    assert outcomes == [302] * 60


def test_one_address_cannot_be_registered_over_and_over(tmp_path: Path, webinar_env):
    env, slug = webinar_env(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_REGISTER_ADDRESS="3 per hour")
    with gunicorn(env, tmp_path / "app.log") as port:
        victim = [
            sign_up(Client(port, source=f"127.0.0.{n + 2}"), slug, "victim@example.org") for n in range(4)
        ]
        other = sign_up(Client(port), slug, "someone.else@example.org")
    assert victim == [302, 302, 302, 429]
    assert other == 302


def test_metrics_add_up_across_gunicorn_processes(tmp_path: Path, webinar_env):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env, _slug = webinar_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    with gunicorn(env, tmp_path / "app.log", workers=2) as port:
        for _ in range(20):
            assert Client(port).get("/healthz")[0] == 200
        body = Client(port).get("/metrics")[2]
    counted = re.search(
        r'^webinars_http_requests_total\{endpoint="ops.healthz",status="200"\} (\S+)$', body, re.M
    )
    assert counted
    assert float(counted.group(1)) == 20
    assert 'webinars_outbox_messages{status="queued"}' in body
