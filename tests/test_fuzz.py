"""Hostile input everywhere: every URL rule with absurd path and query values, and every form on the
site (public and organizer) filled by Hypothesis with arbitrary text. Nothing may answer 5xx.

Runs on SQLite and on PostgreSQL (PostgreSQL refuses NUL bytes and integers beyond its types, which
SQLite lets through). CSRF is off in this app so the arbitrary values reach the forms' validators and
the services behind them rather than stopping at the token check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import PASSWORD, make_event, make_user
from webinars.auth import service as accounts
from webinars.extensions import db
from webinars.models import Registration, Series
from webinars.registrations import service as registrations
from webinars.series import service as series_service

HOSTILE_VALUES = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "not-a-number",
    "-1",
    "0",
    "100000000000000000000",
    "2147483648",
    "%",
    "..",
    "ñ/ü",
    "<script>",
    "' OR 1=1 --",
]
# The site's own query names, the routes' path names, and url_for's options.
HOSTILE_QUERY_NAMES = [
    "page",
    "per_page",
    "q",
    "series",
    "tag",
    "lang",
    "next",
    "status",
    "audience",
    "slug",
    "token",
    "event_id",
    "_external",
    "_scheme",
    "_anchor",
    "_method",
]
ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

# Signing out would end the session the walk runs in; it is exercised in test_accounts.
SKIPPED_ENDPOINTS = {"auth.logout"}


@dataclass
class Site:
    app: Flask
    client: FlaskClient  # signed in as an administrator
    visitor: FlaskClient  # not signed in: sees the sign-in, reset and public forms
    values: dict[str, str]


@pytest.fixture
def site(app_factory: Callable[..., Flask]) -> Iterator[Site]:
    app = app_factory(WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        admin = make_user(admin=True)
        series = series_service.create_series(
            admin, series_service.SeriesData(title="Smart Regions", owner_ids=[admin.id])
        )
        event = make_event(admin, capacity=2)
        outcome = registrations.register(event, name="Ana", email="ana@example.org", consent=True)
        registrations.register(event, name="Ben", email="ben@example.org", consent=True)
        assert isinstance(series, Series)
        assert isinstance(outcome.registration, Registration)
        values = {
            "event_slug": event.slug,
            "series_slug": series.slug,
            "token": outcome.registration.token,
            "event_id": str(event.id),
            "user_id": str(admin.id),
            "series_id": str(series.id),
            "registration_id": str(outcome.registration.id),
            "message_id": "1",
            "broadcast_id": "1",
            "action": "disable",
            "filename": "style.css",
            "reset_token": accounts.password_reset_token(admin),
        }
        email = admin.email
        db.session.remove()
    client = app.test_client()
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    yield Site(app, client, app.test_client(), values)


def valid_value(rule: str, name: str, values: dict[str, str]) -> str:
    if name == "slug":
        return values["series_slug"] if rule.startswith("/series") else values["event_slug"]
    if rule.startswith("/login/reset/"):
        return values["reset_token"]
    return values.get(name, "1")


def build(rule: str, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        value = hostile[1] if hostile and hostile[0] == name else valid_value(rule, name, values)
        return quote(value, safe="/" if match.group("converter") == "path" else "")

    return ARGUMENT.sub(fill, rule)


def assert_no_server_error(client: FlaskClient, method: str, url: str, data: dict | None = None) -> None:
    response = client.open(url, method=method, data=data)
    assert response.status_code < 500, f"{method} {url!r} -> {response.status_code}"


def test_every_url_rule_survives_hostile_path_and_query_values(site: Site) -> None:
    rules = [r for r in site.app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS]
    assert len(rules) > 40
    for rule in rules:
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        names = [m.group("name") for m in ARGUMENT.finditer(rule.rule)]
        for name in names:
            for value in HOSTILE_VALUES:
                url = build(rule.rule, site.values, (name, value))
                for method in methods:
                    assert_no_server_error(site.client, method, url, {} if method == "POST" else None)
        plain = build(rule.rule, site.values)
        if "GET" in methods:
            for value in HOSTILE_VALUES:
                query = urlencode(dict.fromkeys(HOSTILE_QUERY_NAMES, value))
                assert_no_server_error(site.client, "GET", f"{plain}?{query}")


class _Forms(HTMLParser):
    """The POST forms of a page: their action and the names of their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self._current: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "").lower() == "post":
            self._current = (found.get("action") or "", [])
            self.forms.append(self._current)
        elif (
            tag in ("input", "select", "textarea")
            and self._current
            and found.get("name")
            and found["name"] not in self._current[1]
        ):
            self._current[1].append(found["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def discover_forms(site: Site, client: FlaskClient) -> dict[str, list[str]]:
    """Every POST form on every page the site shows this client, by action URL."""
    found: dict[str, list[str]] = {}
    for rule in site.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "ops.prometheus_metrics"):
            continue
        page_url = build(rule.rule, site.values)
        response = client.get(page_url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for action, fields in parser.forms:
            target = action or page_url
            if target.split("?")[0] == "/logout":
                continue
            found.setdefault(target, fields)
    return found


ARBITRARY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=400),
    st.sampled_from(HOSTILE_VALUES + ["", " ", "2026-13-45T25:61", "y", "on", "America/Santiago"]),
)


def fuzz_form(client: FlaskClient, action: str, fields: list[str]) -> None:
    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries({name: ARBITRARY_TEXT for name in fields}))
    def post_arbitrary(data: dict[str, str]) -> None:
        assert_no_server_error(client, "POST", action, data)

    post_arbitrary()


def fuzz_forms(client: FlaskClient, forms: dict[str, list[str]]) -> None:
    for action, fields in sorted(forms.items()):
        fuzz_form(client, action, fields)


def test_every_form_survives_arbitrary_text(site: Site) -> None:
    organizer_forms = discover_forms(site, site.client)
    visitor_forms = discover_forms(site, site.visitor)
    for action in ("/manage/webinars/new", "/manage/series/new", "/manage/organizers", "/manage/password"):
        assert action in organizer_forms, sorted(organizer_forms)
    assert any("/messages/new" in action for action in organizer_forms)
    reset = f"/login/reset/{site.values['reset_token']}"
    for action in ("/login", "/login/forgot", reset, f"/webinars/{site.values['event_slug']}"):
        assert action in visitor_forms, sorted(visitor_forms)
    assert f"/r/{site.values['token']}/cancel" in visitor_forms

    fuzz_forms(site.client, organizer_forms)
    # Last: a reset form that succeeds signs the administrator out.
    fuzz_forms(site.visitor, visitor_forms)
