"""Public pages are rendered once per content version and language, and every response fills in its
own token, nonce and seats: an organizer's change shows at once, a sign-up changes the seats without a
render, and nothing personal ever reaches a shared cache."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager

from flask import template_rendered
from sqlalchemy import update

from tests.factories import make_event, make_registration, make_series, make_user
from tests.helpers import import_or_skip, login, missing, recorded_statements
from webinars import pagecache
from webinars.extensions import db
from webinars.models import Event

SHARED_CACHE = {"Surrogate-Capability": 'nginx="shared-cache"'}


@contextmanager
def renders(app):
    rendered: list[str] = []

    def record(sender, template, context, **extra) -> None:  # type: ignore[no-untyped-def]
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(record, app)


def text(response) -> str:
    return response.get_data(as_text=True)


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def version(app) -> int:
    with app.app_context():
        return pagecache.content_version()[0]


def test_a_second_visitor_gets_the_page_without_a_render_and_in_one_statement(app):
    slug = make_event(capacity=10).slug
    app.test_client().get(f"/webinars/{slug}")

    with renders(app) as rendered, recorded_statements() as statements:
        response = app.test_client().get(f"/webinars/{slug}")

    assert response.status_code == 200
    assert rendered == []
    assert len(statements) == 1, "\n".join(statements)  # the content version and the seats together
    assert "10 seats left" in text(response)


def test_seats_change_with_each_sign_up_without_a_render(app):
    event = make_event(capacity=3)
    slug = event.slug
    app.test_client().get(f"/webinars/{slug}")
    app.test_client().get("/")
    make_registration(event, "ana@example.org")

    with renders(app) as rendered:
        page = text(app.test_client().get(f"/webinars/{slug}"))
        home = text(app.test_client().get("/"))

    assert rendered == []
    assert "2 seats left" in page
    assert "2 seats left" in home
    assert json_ld(page)["remainingAttendeeCapacity"] == 2
    assert "@wbn" not in page


def test_the_last_seat_taken_changes_the_words_of_the_page(app):
    event = make_event(capacity=1)
    slug = event.slug
    assert ">Register</button>" in text(app.test_client().get(f"/webinars/{slug}"))
    make_registration(event, "ana@example.org")

    page = text(app.test_client().get(f"/webinars/{slug}"))

    assert "Join the waitlist</button>" in page
    assert "Fully booked: waitlist open" in page
    assert json_ld(page)["offers"]["availability"] == "https://schema.org/SoldOut"


def test_an_organizer_change_is_visible_at_once(app):
    event = make_event(title="Regional innovation policy")
    slug = event.slug
    series = make_series(title="LA Webinar")
    before = version(app)
    assert "Regional innovation policy" in text(app.test_client().get(f"/webinars/{slug}"))
    assert "Regional innovation policy" in text(app.test_client().get("/"))

    event.title = "Smart regions, revisited"
    db.session.commit()

    assert version(app) == before + 1
    assert "Smart regions, revisited" in text(app.test_client().get(f"/webinars/{slug}"))
    assert "Smart regions, revisited" in text(app.test_client().get("/"))
    db.session.execute(update(Event).where(Event.id == event.id).values(series_id=series.id))
    db.session.commit()
    assert version(app) == before + 2
    assert "LA Webinar" in text(app.test_client().get(f"/webinars/{slug}"))


def test_a_sign_up_does_not_raise_the_content_version(app):
    event = make_event(capacity=5)
    before = version(app)

    make_registration(event, "ana@example.org")

    assert version(app) == before


def test_each_language_has_its_own_page(app):
    slug = make_event().slug
    english = text(app.test_client().get(f"/webinars/{slug}"))
    spanish = text(app.test_client().get(f"/webinars/{slug}", headers={"Accept-Language": "es"}))

    assert 'lang="en"' in english
    assert 'lang="es"' in spanish


def test_a_direct_visitor_gets_a_working_token_in_a_private_response(app):
    slug = make_event(capacity=10).slug
    app.test_client().get(f"/webinars/{slug}")  # kept by someone else's visit
    client = app.test_client()

    with app.app_context():  # as in production: a request's g is its own
        response = client.get(f"/webinars/{slug}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(response))

    assert token
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Set-Cookie" in response.headers
    nonce = re.search(r'nonce="([^"]+)"', text(response))
    assert nonce
    assert f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]
    with app.app_context():
        posted = client.post(
            f"/webinars/{slug}",
            data={"csrf_token": token.group(1), "name": "Ana", "email": "ana@example.org", "consent": "y"},
        )
    assert posted.status_code == 302


def test_a_shared_cache_gets_the_page_without_token_or_cookie(app):
    slug = make_event(capacity=10).slug
    client = app.test_client()

    response = client.get(f"/webinars/{slug}", headers=SHARED_CACHE)

    assert response.status_code == 200
    assert 'name="csrf_token" type="hidden" value=""' in text(response)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]


def test_the_token_for_a_shared_page_comes_from_its_own_url(app):
    slug = make_event(capacity=10).slug
    client = app.test_client()
    with app.app_context():  # as in production: a request's g is its own
        client.get(f"/webinars/{slug}", headers=SHARED_CACHE)
    with app.app_context():
        answer = client.get("/csrf-token")

    assert answer.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        posted = client.post(
            f"/webinars/{slug}",
            data={
                "csrf_token": answer.get_json()["token"],
                "name": "Ana",
                "email": "a@example.org",
                "consent": "y",
            },
        )
    assert posted.status_code == 302
    refused = app.test_client().post(
        f"/webinars/{slug}", data={"csrf_token": "", "name": "Bo", "email": "b@example.org", "consent": "y"}
    )
    assert refused.status_code == 400


def test_a_page_without_a_form_is_public_and_answers_304(app):
    make_event()
    client = app.test_client()

    first = client.get("/")
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in first.headers
    assert "Accept-Language" in first.headers["Vary"]
    assert again.status_code == 304


def test_a_signed_in_organizer_gets_their_own_header(app, client):
    make_event()
    app.test_client().get("/")  # kept for anonymous visitors
    organizer = make_user()

    login(client, organizer)
    page = text(client.get("/"))

    assert "Sign out" in page
    assert "Organizer sign-in" not in page
    assert "Organizer sign-in" in text(app.test_client().get("/"))


def test_processes_share_their_pages_through_redis(app_factory):
    redis = import_or_skip("redis", "the redis client is not installed")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        missing("Redis is not reachable at 127.0.0.1:6379")
    shared = {"PAGE_CACHE_REDIS_URL": url, "SECRET_KEY": f"pages-{uuid.uuid4()}"}
    first, second = app_factory(**shared), app_factory(**shared)
    with first.app_context():
        slug = make_event(capacity=4).slug
        first.test_client().get(f"/webinars/{slug}")

    with second.app_context(), renders(second) as rendered:
        page = text(second.test_client().get(f"/webinars/{slug}"))

    assert rendered == []
    assert "4 seats left" in page
