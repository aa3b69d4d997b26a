"""Real servers for tests: the app under gunicorn in its own process, nginx in front of it, and a small
HTTP client that keeps cookies and can connect from any loopback address (127.0.0.0/8)."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def app_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """Production settings on an SQLite file in tmp_path; ``settings`` override them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WEBINARS_", "FLASK_"))}
    env.update(
        WEBINARS_CONFIG="production",
        SECRET_KEY="s" * 64,
        DATABASE_URL=f"sqlite:///{tmp_path / 'webinars.db'}",
        WEBINARS_INSTANCE=str(tmp_path / "instance"),
        BASE_URL="https://webinars.example.org",
    )
    env.update(settings)
    return env


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webinars", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[int]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:webinars.gunicorn_config"]
    command += ["-w", str(workers), "-b", f"127.0.0.1:{port}"]
    with running([*command, "webinars:create_app()"], port, log, env):
        yield port


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _cache_settings(folder: Path) -> str:
    return f"""
    proxy_cache_path {folder}/cache levels=1:2 keys_zone=webinars:10m max_size=256m inactive=10m
                     use_temp_path=off;
    map $cookie_session$cookie_remember_token $webinars_shared {{ "" 'nginx="shared-cache"'; default ""; }}"""


def _cached_location(backend: int) -> str:
    return f"""location ~ ^/(|past|series(/[^/]+)?|webinars/[^/]+)$ {{
            proxy_pass http://127.0.0.1:{backend};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header Surrogate-Capability $webinars_shared;
            proxy_cache webinars;
            proxy_cache_key $scheme$host$request_uri;
            proxy_cache_bypass $cookie_session $cookie_remember_token;
            proxy_no_cache $cookie_session $cookie_remember_token;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            proxy_cache_background_update on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}"""


@contextmanager
def nginx(folder: Path, sites: dict[int, int], *, cache: bool = False) -> Iterator[dict[int, int]]:
    """nginx as a child process, terminating TLS in front of each backend port.

    ``sites`` maps a backend port to nothing in particular; the answer maps each backend to its TLS port.
    The site configuration is the one the README shows, pointed at loopback ports; ``cache`` adds the
    README's cache of public pages.
    """
    binary = nginx_binary()
    assert binary, "nginx is not installed"
    cert, key = self_signed_certificate(folder)
    listen = {backend: free_port() for backend in sites}
    servers = "\n".join(
        f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {_cached_location(backend) if cache else ""}
        location / {{
            proxy_pass http://127.0.0.1:{backend};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}"""
        for backend, tls_port in listen.items()
    )
    (folder / "logs").mkdir(exist_ok=True)
    config = folder / "nginx.conf"
    # Started as root (CI), nginx's workers drop to "nobody", which cannot enter pytest's private
    # temporary folders where the cache files live: keep them as the user that started the test.
    workers_user = "user root root;" if os.geteuid() == 0 else ""
    config.write_text(
        f"""
{workers_user}
worker_processes 1;
error_log {folder}/logs/error.log warn;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/logs/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    {_cache_settings(folder) if cache else ""}
    {servers}
}}
"""
    )
    log = folder / "logs" / "stdout.log"
    command = [binary, "-p", str(folder), "-c", str(config), "-g", "daemon off;"]
    first_port = next(iter(listen.values()))
    with running(command, first_port, log):
        yield listen


@dataclass
class Client:
    """An HTTP(S) client with a cookie jar, connecting from a chosen loopback address."""

    port: int
    tls: bool = False
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "localhost", self.port, source_address=(self.source, 0), context=context, timeout=30
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, source_address=(self.source, 0), timeout=30
            )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()

    def get(self, path: str, **kwargs: object) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def submit(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """POST a form with the CSRF token from the page that shows it, like a browser."""
        status, _headers, page = self.get(path, headers=headers)
        assert status == 200, (status, page[-500:])
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert match, "no CSRF token on " + path
        scheme, host = ("https", "localhost") if self.tls else ("http", "127.0.0.1")
        referer = f"{scheme}://{host}:{self.port}{path}"  # Flask-WTF checks it on https, as browsers send it
        return self.request(
            "POST",
            path,
            form={**form, "csrf_token": match.group(1)},
            headers={**(headers or {}), "Referer": referer},
        )


def location_path(headers: dict[str, str]) -> str:
    return urlsplit(headers.get("location", "")).path


def seed_published_webinar(env: dict[str, str], capacity: int | None = None) -> str:
    """Apply the migrations with the real CLI, then add a published webinar; returns its slug."""
    flask(env, "db", "upgrade")
    from webinars import create_app
    from webinars.extensions import db

    from .factories import make_event

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"], SQLALCHEMY_ENGINE_OPTIONS={})
    with app.app_context():
        slug = make_event(capacity=capacity).slug
        db.session.remove()
        db.engine.dispose()
    return slug


def sign_up(client: Client, slug: str, email: str) -> int:
    status, _headers, _page = client.submit(
        f"/webinars/{slug}", {"name": "Attendee", "email": email, "consent": "y", "timezone": "UTC"}
    )
    return status
