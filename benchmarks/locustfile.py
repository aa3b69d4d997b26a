"""Locust users for the benchmarks. Used as a library by drive.py, and usable on its own::

    BENCH_SLUG=<webinar slug> locust -f benchmarks/locustfile.py --headless -u 50 -r 50 -t 20s \
        --host http://127.0.0.1:8000 Registrant

Each simulated visitor behaves like a browser: it loads the webinar page, keeps the session cookie
and posts the registration form with the CSRF token from that page. The app runs with its
production settings, so its session cookie is marked Secure; the benchmark serves plain HTTP on
loopback in place of a TLS-terminating proxy, and the users' cookie policy counts loopback http
as secure (secure_protocols below), as a browser on https would send the cookie.

Settings come from the environment: BENCH_SLUG (the webinar), BENCH_SERIES (the series slug),
BENCH_HOSTS (comma-separated base URLs; each user sticks to one, as behind a load balancer),
BENCH_RUN (a tag that keeps e-mail addresses unique across runs).
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from http.cookiejar import DefaultCookiePolicy

import gevent.event
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

SLUG = os.environ.get("BENCH_SLUG", "")
SERIES = os.environ.get("BENCH_SERIES", "")
HOSTS = [host for host in os.environ.get("BENCH_HOSTS", "").split(",") if host]
RUN = os.environ.get("BENCH_RUN") or uuid.uuid4().hex[:8]

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

_emails = itertools.count()
_users = itertools.count()

# The crowd: every CrowdRegistrant fetches its form, then all press "Register" together.
CROWD_GATE = gevent.event.Event()
crowd = {"ready": 0, "done": 0}


class Visitor(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    network_timeout = float(os.environ.get("BENCH_REQUEST_TIMEOUT", "120"))
    connection_timeout = network_timeout
    host = HOSTS[0] if HOSTS else None

    def on_start(self) -> None:
        number = next(_users)
        self.base = HOSTS[number % len(HOSTS)] if HOSTS else ""
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))

    def get(self, path: str, name: str, expect: int = 200):  # type: ignore[no-untyped-def]
        with self.client.get(self.base + path, name=name, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"status {response.status_code}")
            return response

    def fetch_token(self) -> str | None:
        response = self.get(f"/webinars/{SLUG}", name="form")
        match = CSRF.search(response.text or "")
        return (match.group(1) or match.group(2)) if match else None

    def post_registration(self, token: str | None) -> int:
        n = next(_emails)
        email = f"bench-{RUN}-{n}@example.org"
        data = {
            "csrf_token": token or "",
            "name": f"Bench Visitor {n}",
            "email": email,
            "organisation": "Benchmark Lab",
            "consent": "y",
            "website": "",
            "timezone": "Europe/Madrid",
        }
        with self.client.post(
            self.base + f"/webinars/{SLUG}",
            data=data,
            name="register",
            allow_redirects=False,
            catch_response=True,
            context={"email": email},
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
            return int(response.status_code or 0)


class Registrant(Visitor):
    """One browser session that registers people one after another (a new address each time)."""

    def on_start(self) -> None:
        super().on_start()
        self.token = self.fetch_token()

    @task
    def register(self) -> None:
        if self.post_registration(self.token) == 400:  # token refused: reload the form, as a person would
            self.token = self.fetch_token()


class CrowdRegistrant(Visitor):
    """Loads the form, waits for everyone else, registers once and leaves."""

    @task
    def register_once(self) -> None:
        token = self.fetch_token()
        crowd["ready"] += 1
        CROWD_GATE.wait(timeout=300)
        self.post_registration(token)
        crowd["done"] += 1
        raise StopUser()


class PageReader(Visitor):
    @task
    def page(self) -> None:
        self.get(f"/webinars/{SLUG}", name="page")


class IcsDownloader(Visitor):
    @task
    def ics(self) -> None:
        self.get(f"/webinars/{SLUG}/calendar.ics", name="ics")


class FeedReader(Visitor):
    @task
    def feed(self) -> None:
        self.get(f"/series/{SERIES}/calendar.ics", name="feed")


class BaselineInserter(Visitor):
    """The baseline app: one row inserted per POST (no CSRF, no rules, no mail)."""

    @task
    def insert(self) -> None:
        n = next(_emails)
        data = {"name": f"Bench Visitor {n}", "email": f"bench-{RUN}-{n}@example.org"}
        with self.client.post(
            self.base + "/insert", data=data, name="insert", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")


class BaselineTemplate(Visitor):
    """The baseline app: one small template rendered per GET."""

    @task
    def template(self) -> None:
        self.get("/template", name="template")


USER_CLASSES = {
    cls.__name__: cls
    for cls in (
        Registrant,
        CrowdRegistrant,
        PageReader,
        IcsDownloader,
        FeedReader,
        BaselineInserter,
        BaselineTemplate,
    )
}
