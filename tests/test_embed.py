"""The embeddable sign-up form: who may frame it, and its cookie-free CSRF protection."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from tests.factories import make_event
from tests.helpers import submit
from webinars.extensions import db
from webinars.models import Registration

OWN = "http://localhost"  # the test client's origin


def _token(client, slug: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/embed/webinars/{slug}").get_data(as_text=True)
    match = re.search(r'name="embed_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _person(token: str, email: str = "ana@example.org") -> dict[str, str]:
    return {"embed_token": token, "name": "Ana", "email": email, "consent": "y"}


def _count() -> int:
    return db.session.scalar(select(func.count(Registration.id))) or 0


def test_only_listed_origins_may_frame_the_form(client, app):
    event = make_event(embed_origins=["https://news.example.org", "http://127.0.0.1:8080"])
    response = client.get(f"/embed/webinars/{event.slug}")
    assert response.status_code == 200
    directives = _directives(response.headers["Content-Security-Policy"])
    assert directives["frame-ancestors"] == "'self' https://news.example.org http://127.0.0.1:8080"
    assert "unsafe-inline" not in directives["script-src"]  # the rest of the site's policy stays
    assert "X-Frame-Options" not in response.headers
    page = client.get(f"/webinars/{event.slug}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert _directives(page.headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    closed = client.get(f"/embed/webinars/{make_event().slug}")
    assert _directives(closed.headers["Content-Security-Policy"])["frame-ancestors"] == "'self'"


def _directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy header as directive -> sources; each directive appears once."""
    pairs = [part.strip().split(" ", 1) for part in policy.split(";") if part.strip()]
    names = [pair[0] for pair in pairs]
    assert len(names) == len(set(names)), policy
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def test_a_post_from_the_form_itself_registers(client, app):
    event = make_event()
    token = _token(client, event.slug)
    response = client.post(
        f"/embed/webinars/{event.slug}",
        data=_person(token),
        headers={"Origin": OWN, "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    assert "/registered" in response.headers["Location"]
    assert _count() == 1


def test_posts_from_elsewhere_or_without_a_valid_token_are_refused(client, app):
    event, other = make_event(), make_event(title="Another")
    token = _token(client, event.slug)
    url = f"/embed/webinars/{event.slug}"
    refused = [
        client.post(url, data=_person(token), headers={"Origin": "https://evil.example"}),
        client.post(url, data=_person(token), headers={"Origin": OWN, "Sec-Fetch-Site": "cross-site"}),
        client.post(url, data=_person(token), headers={"Referer": "https://evil.example/page"}),
        client.post(url, data=_person("forged"), headers={"Origin": OWN}),
        client.post(url, data=_person(_token(client, other.slug)), headers={"Origin": OWN}),
        client.post(url, data={k: v for k, v in _person(token).items() if k != "embed_token"}),
    ]
    assert [response.status_code for response in refused] == [400] * len(refused)
    assert _count() == 0


def test_the_organizer_sees_the_snippet_and_edits_the_origins(client, app, auth):
    event = make_event(embed_origins=["https://news.example.org"])
    auth.login(event.owner)
    page = html.unescape(client.get(f"/manage/webinars/{event.id}").get_data(as_text=True))
    assert f'data-webinar="{event.slug}"' in page
    assert "/embed.js" in page
    edit = f"/manage/webinars/{event.id}/edit"
    form = {
        "title": event.title,
        "start_date": "2031-03-12",
        "start_time": "16:00",
        "timezone": "America/Santiago",
        "duration": "90",
        "reminders": "1440, 60",
    }
    bad = submit(client, edit, {**form, "embed_origins": "https://x.org/path"})
    assert "is not an origin" in bad.get_data(as_text=True)
    good = submit(client, edit, {**form, "embed_origins": "https://X.org/\nhttp://127.0.0.1:8080"})
    assert good.status_code == 302
    db.session.expire_all()
    assert event.embed_origin_list == ["https://x.org", "http://127.0.0.1:8080"]


def test_hostile_slugs_are_not_found(client, app):
    for slug in ("%00", "a%00b", "x" * 300, "%C0%AE"):
        assert client.get(f"/embed/webinars/{slug}").status_code == 404
        assert client.post(f"/embed/webinars/{slug}", data={}).status_code == 404
        assert client.get(f"/api/v1/webinars/{slug}").status_code == 404
