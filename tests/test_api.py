"""The JSON API: tokens, public reads and sign-up, the organizer's changes, problem details, ETags."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from tests.factories import make_event, make_user
from tests.helpers import submit
from webinars import clock
from webinars.auth import tokens
from webinars.extensions import db
from webinars.models import ApiToken, Event, OutboxMessage, Registration, RegistrationStatus, TokenScope

PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token_for(user, scope: TokenScope = TokenScope.WRITE) -> str:  # type: ignore[no-untyped-def]
    return tokens.create_token(user, "tests", scope)[1]


def test_openapi_document_is_valid_3_1(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)  # an independent validator of the OpenAPI 3.1 meta-schema
    assert "/api/v1/webinars/{slug}/registrations" in document["paths"]
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert b"swagger-ui-bundle.js" in page.data
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_account_page_creates_a_token_shown_once_stored_hashed_and_revocable(client, app, auth):
    owner = make_user()
    auth.login(owner)
    page = submit(client, "/account/tokens", {"name": "Website", "scope": "read"})
    secret = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', page.get_data(as_text=True))
    assert secret, page.get_data(as_text=True)
    secret_text = secret.group(1)
    assert page.headers["Cache-Control"] == "no-store"
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash != secret_text
    assert secret_text not in stored.token_hash
    assert stored.last_used_at is None
    assert secret_text not in client.get("/account/tokens").get_data(as_text=True)  # never shown again

    api = app.test_client()
    assert api.get("/api/v1/manage/webinars", headers=bearer(secret_text)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, stored.id).last_used_at is not None
    refused = api.post("/api/v1/manage/webinars", json={}, headers=bearer(secret_text))
    assert refused.status_code == 403
    assert refused.content_type == PROBLEM
    assert refused.get_json()["reason"] == "insufficient_scope"

    submit(client, f"/account/tokens/{stored.id}/revoke", {}, form_page="/account/tokens")
    gone = api.get("/api/v1/manage/webinars", headers=bearer(secret_text))
    assert gone.status_code == 401
    assert "Bearer" in gone.headers["WWW-Authenticate"]


def test_session_cookie_is_never_enough(client, app, auth):
    owner = make_user()
    auth.login(owner)
    response = client.post("/api/v1/manage/webinars", json={"title": "x"})
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert client.get("/api/v1/manage/webinars").status_code == 401


def test_public_list_filters_paginates_with_links_and_etags(client, app):
    owner = make_user()
    for days in range(1, 6):
        make_event(owner, title=f"Upcoming {days}", starts_in=timedelta(days=days), tags=["SDG 9"])
    make_event(owner, title="Draft", publish=False)
    first = client.get("/api/v1/webinars?per_page=2")
    body = first.get_json()
    assert [item["title"] for item in body["items"]] == ["Upcoming 1", "Upcoming 2"]
    assert body["meta"]["total"] == 5
    assert body["meta"]["pages"] == 3
    assert body["meta"]["links"]["prev"] is None
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(body["meta"]["links"]["next"])
    assert [item["title"] for item in second.get_json()["items"]] == ["Upcoming 3", "Upcoming 4"]
    assert "join_url" not in body["items"][0]  # the join link is for confirmed attendees only

    tagged = client.get("/api/v1/webinars?tag=sdg-9&when=all").get_json()
    assert tagged["meta"]["total"] == 5
    assert client.get("/api/v1/webinars?tag=nothing").get_json()["items"] == []

    etag = first.headers["ETag"]
    assert client.get("/api/v1/webinars?per_page=2", headers={"If-None-Match": etag}).status_code == 304

    one = client.get(f"/api/v1/webinars/{body['items'][0]['slug']}")
    assert one.status_code == 200
    assert one.headers["ETag"]
    assert client.get("/api/v1/webinars/draft-none").status_code == 404
    bad = client.get("/api/v1/webinars?when=tomorrow&page=0")
    assert bad.status_code == 422
    assert bad.content_type == PROBLEM
    assert set(bad.get_json()["errors"]) == {"when", "page"}


def test_series_are_listed_with_their_counts(client, app):
    from webinars.series import service as series_service

    owner = make_user()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart Regions"))
    make_event(owner, series_id=series.id)
    listed = client.get("/api/v1/series").get_json()["items"]
    assert listed == [
        {
            "slug": series.slug,
            "title": "Smart Regions",
            "description_md": "",
            "upcoming_count": 1,
            "past_count": 0,
        }
    ]
    assert client.get(f"/api/v1/series/{series.slug}").get_json() == listed[0]
    assert client.get("/api/v1/series/nothing").status_code == 404
    in_series = client.get(f"/api/v1/webinars?series={series.slug}").get_json()["items"]
    assert [item["series"]["slug"] for item in in_series] == [series.slug]


def test_public_sign_up_answers_the_same_for_new_and_repeated_addresses(client, app):
    event = make_event(capacity=1)
    url = f"/api/v1/webinars/{event.slug}/registrations"
    person = {"name": "Ana", "email": "Ana@Example.org", "consent": True, "timezone": "Europe/Madrid"}
    first = client.post(url, json=person)
    again = client.post(url, json=person)
    other = client.post(url, json={**person, "email": "bea@example.org"})
    assert first.status_code == again.status_code == other.status_code == 202
    assert first.get_json() == again.get_json() == other.get_json()
    statuses = dict(db.session.execute(select(Registration.email, Registration.status)).all())
    assert statuses == {"ana@example.org": "confirmed", "bea@example.org": "waitlisted"}

    invalid = client.post(url, json={"name": "\x00", "email": "nope", "consent": False})
    assert invalid.status_code == 422
    assert invalid.content_type == PROBLEM
    assert set(invalid.get_json()["errors"]) == {"name", "email", "consent"}
    assert client.post(url, data="name=x", content_type="text/plain").status_code == 422


def test_sign_up_refused_when_registration_is_closed(client, app, frozen_clock):
    event = make_event(starts_in=timedelta(hours=2))
    frozen_clock.advance(hours=3)
    response = client.post(
        f"/api/v1/webinars/{event.slug}/registrations",
        json={"name": "Ana", "email": "ana@example.org", "consent": True},
    )
    assert response.status_code == 409
    assert response.get_json()["reason"] == "closed"


def test_organizer_drives_a_webinar_through_the_same_services(client, app):
    owner = make_user()
    headers = bearer(token_for(owner))
    starts = (clock.now() + timedelta(days=10)).replace(microsecond=0)
    created = client.post(
        "/api/v1/manage/webinars",
        headers=headers,
        json={
            "title": "Webinar #17",
            "starts_at": starts.isoformat(),
            "timezone": "America/Santiago",
            "capacity": 1,
            "join_url": "https://meet.example.org/17",
            "speakers": [{"name": "Ane Etxeberria", "affiliation": "Orkestra"}],
            "tags": ["SDG 9"],
            "embed_origins": ["https://News.Example.org/"],
        },
    )
    assert created.status_code == 201, created.get_json()
    webinar = created.get_json()
    assert webinar["status"] == "draft"
    assert webinar["embed_origins"] == ["https://news.example.org"]
    assert 'data-webinar="webinar-17-' in webinar["embed_snippet"]
    event_url = f"/api/v1/manage/webinars/{webinar['id']}"
    assert created.headers["Location"].endswith(event_url)

    published = client.post(f"{event_url}/publish", headers=headers)
    assert published.get_json()["status"] == "published"

    signup = f"/api/v1/webinars/{webinar['slug']}/registrations"
    client.post(signup, json={"name": "Ana", "email": "ana@example.org", "consent": True})
    added = client.post(
        f"{event_url}/registrations",
        headers=headers,
        json={"name": "Bea", "email": "bea@example.org", "consent": True},
    )
    assert added.status_code == 201
    assert added.get_json()["registration"]["status"] == "waitlisted"
    again = client.post(
        f"{event_url}/registrations",
        headers=headers,
        json={"name": "Bea", "email": "bea@example.org", "consent": True},
    )
    assert again.status_code == 200
    assert again.get_json()["created"] is False

    listing = client.get(f"{event_url}/registrations?status=confirmed", headers=headers).get_json()
    assert [item["email"] for item in listing["items"]] == ["ana@example.org"]
    ana_id = listing["items"][0]["id"]
    cancelled = client.post(f"{event_url}/registrations/{ana_id}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"
    bea = db.session.scalars(select(Registration).where(Registration.email == "bea@example.org")).one()
    assert bea.status == RegistrationStatus.CONFIRMED  # promoted from the waitlist, as on the pages
    assert db.session.get(Event, webinar["id"]).seats_taken == 1

    later = starts + timedelta(days=1)
    moved = client.post(f"{event_url}/reschedule", headers=headers, json={"starts_at": later.isoformat()})
    assert moved.status_code == 200
    assert moved.get_json()["sequence"] == 1
    updates = db.session.scalar(select(func.count()).where(OutboxMessage.kind == "event_updated"))
    assert updates == 1  # Bea, the one confirmed attendee

    past = client.patch(event_url, headers=headers, json={"starts_at": "2001-01-01T10:00:00+00:00"})
    assert past.status_code == 422
    assert "starts_at" in past.get_json()["errors"]
    naive = client.patch(event_url, headers=headers, json={"starts_at": "2031-01-01T10:00:00"})
    assert naive.status_code == 422
    for far in ("9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+05:00"):
        edge = client.post(f"{event_url}/reschedule", headers=headers, json={"starts_at": far})
        assert edge.status_code == 422
        assert list(edge.get_json()["errors"]) == ["starts_at"]

    export = client.get(f"{event_url}/registrations.csv", headers=headers)
    assert export.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["name", "email", "organisation", "status"]
    assert len(rows) == 3

    emails = client.get(f"{event_url}/emails", headers=headers).get_json()
    assert {item["kind"] for item in emails["items"]} >= {
        "registration_confirmed",
        "promoted",
        "event_updated",
    }

    done = client.post(f"{event_url}/cancel", headers=headers)
    assert done.get_json()["status"] == "cancelled"
    assert client.patch(event_url, headers=headers, json={"title": "x"}).status_code == 409


def test_organizers_see_only_their_own_webinars(client, app):
    mine, theirs = make_user(), make_user()
    event = make_event(theirs)
    headers = bearer(token_for(mine))
    assert client.get(f"/api/v1/manage/webinars/{event.id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/manage/webinars/{event.id}/cancel", headers=headers).status_code == 404
    assert client.get("/api/v1/manage/webinars", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/manage/webinars/99999999999", headers=headers).status_code == 404


def test_errors_outside_the_api_stay_html_and_inside_are_problems(client, app):
    assert client.get("/api/v1/nothing-here").content_type == PROBLEM
    assert client.get("/nothing-here").content_type.startswith("text/html")
    body = json.loads(client.delete("/api/v1/webinars").data)
    assert body["status"] == 405


def test_sign_ups_racing_for_the_last_seats_through_the_api(app_factory, backend):
    """Two app instances (two processes' worth of engines), 30 sign-ups released at once, rate
    limits on: every caller gets the same 202 and the webinar holds exactly its capacity."""
    import threading
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import pg_engine_options

    options = pg_engine_options() if backend == "postgresql" else {}
    first = app_factory(RATELIMIT_ENABLED=True)
    with first.app_context():
        headers = bearer(token_for(make_user()))
        starts = (clock.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
    client = first.test_client()
    created = client.post(
        "/api/v1/manage/webinars",
        headers=headers,
        json={"title": "Last seats", "starts_at": starts, "timezone": "UTC", "capacity": 3},
    ).get_json()
    client.post(f"/api/v1/manage/webinars/{created['id']}/publish", headers=headers)
    apps = [first, app_factory(RATELIMIT_ENABLED=True, SQLALCHEMY_ENGINE_OPTIONS=options)]
    people = 30
    barrier = threading.Barrier(people)

    def sign_up(index: int) -> int:
        caller = apps[index % len(apps)].test_client()
        barrier.wait(timeout=60)
        return caller.post(
            f"/api/v1/webinars/{created['slug']}/registrations",
            json={"name": f"Person {index}", "email": f"person{index}@example.org", "consent": True},
        ).status_code

    with ThreadPoolExecutor(max_workers=people) as pool:
        codes = list(pool.map(sign_up, range(people)))

    assert Counter(codes) == {202: people}
    with first.app_context():
        stored = Counter(db.session.scalars(select(Registration.status)))
        assert stored == {"confirmed": 3, "waitlisted": people - 3}
        assert db.session.get(Event, created["id"]).seats_taken == 3
        db.session.remove()
    cancelled = client.post(f"/api/v1/manage/webinars/{created['id']}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"


def test_sign_up_is_rate_limited_per_address(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_API_REGISTER_PER_ADDRESS="2 per minute")
    with app.app_context():
        slug = make_event().slug
        client = app.test_client()
        url = f"/api/v1/webinars/{slug}/registrations"
        person = {"name": "Ana", "email": "ana@example.org", "consent": True}
        codes = [client.post(url, json=person).status_code for _ in range(3)]
        other = client.post(url, json={**person, "email": "bea@example.org"})
        limited = client.post(url, json={**person, "email": "ANA@example.org"})
        db.session.remove()
    assert codes == [202, 202, 429]
    assert other.status_code == 202  # another address from the same client still gets through
    assert limited.status_code == 429
    assert limited.content_type == PROBLEM


def test_cli_prints_a_token_that_works(client, app):
    owner = make_user()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["organizers", "token", owner.email, "--scope", "write", "--name", "CRM"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("wbn_")
    assert client.get("/api/v1/manage/webinars", headers=bearer(secret)).status_code == 200
    unknown = runner.invoke(args=["organizers", "token", "nobody@example.org"])
    assert unknown.exit_code != 0
    assert "No account" in unknown.output


def test_registrations_carry_their_answers_and_are_approved_or_declined(client, app):
    from webinars.questions import service as questions
    from webinars.registrations import service as registrations

    owner = make_user()
    headers = bearer(token_for(owner))
    event = make_event(owner, capacity=5, approval_required=True)
    question = questions.add_question(
        event, questions.QuestionData(kind="single_choice", label="Sector", options="Public\nPrivate")
    )
    ana = registrations.register(
        event, name="Ana", email="ana@example.org", consent=True, answers={question.id: "Public"}
    ).registration
    ben = registrations.register(event, name="Ben", email="ben@example.org", consent=True).registration
    base = f"/api/v1/manage/webinars/{event.id}/registrations"

    listed = client.get(base, headers=headers).get_json()["items"]
    by_email = {item["email"]: item for item in listed}
    assert by_email["ana@example.org"]["status"] == "pending"
    assert by_email["ana@example.org"]["answers"] == [
        {"question_id": question.id, "question": "Sector", "kind": "single_choice", "value": "Public"}
    ]
    assert by_email["ben@example.org"]["answers"] == []

    approved = client.post(f"{base}/{ana.id}/approve", headers=headers)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "confirmed"
    again = client.post(f"{base}/{ana.id}/approve", headers=headers)
    assert again.status_code == 409
    assert again.content_type == PROBLEM
    assert again.get_json()["reason"] == "not_pending"

    declined = client.post(f"{base}/{ben.id}/decline", headers=headers, json={"reason": "Members only."})
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "rejected"
    db.session.refresh(event)
    assert event.seats_taken == 1
    kinds = set(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.event_id == event.id)))
    assert {"registration_confirmed", "registration_declined"} <= kinds


def test_approving_needs_a_write_token_on_ones_own_webinar(client, app):
    from webinars.registrations import service as registrations

    owner, other = make_user(), make_user()
    event = make_event(owner, approval_required=True)
    pending = registrations.register(event, name="Ana", email="ana@example.org", consent=True).registration
    url = f"/api/v1/manage/webinars/{event.id}/registrations/{pending.id}/approve"
    assert client.post(url, headers=bearer(token_for(owner, TokenScope.READ))).status_code == 403
    assert client.post(url, headers=bearer(token_for(other))).status_code == 404
    db.session.refresh(pending)
    assert pending.status == RegistrationStatus.PENDING


def test_webhook_endpoints_through_the_api(app_factory):
    from webinars.mail import worker
    from webinars.webhooks import signing

    app = app_factory(WEBHOOKS_ALLOW_PRIVATE=True)
    client = app.test_client()
    with app.app_context():
        owner, other = make_user(), make_user()
        event = make_event(owner)
        headers = bearer(token_for(owner))
        base = f"/api/v1/manage/webinars/{event.id}/webhooks"
        refused = client.post(
            base,
            headers=headers,
            json={"url": "https://user:pw@example.org/", "event_types": ["webinar.updated"]},
        )
        assert refused.status_code == 422
        assert "url" in refused.get_json()["errors"]
        unknown = client.post(
            base, headers=headers, json={"url": "http://127.0.0.1:9/", "event_types": ["x"]}
        )
        assert unknown.status_code == 422

        created = client.post(
            base, headers=headers, json={"url": "http://127.0.0.1:9/hook", "event_types": ["webinar.updated"]}
        )
        assert created.status_code == 201, created.get_json()
        endpoint = created.get_json()
        assert endpoint["secret"].startswith(signing.PREFIX)
        assert endpoint["webinar_id"] == event.id
        assert created.headers["Cache-Control"] == "private, no-store"
        item = f"/api/v1/manage/webhooks/{endpoint['id']}"
        assert client.get(base, headers=headers).get_json()["items"][0]["id"] == endpoint["id"]
        assert client.get(item, headers=bearer(token_for(other))).status_code == 404
        assert client.get(item, headers=bearer(token_for(owner, TokenScope.READ))).status_code == 403

        rotated = client.post(f"{item}/rotate", headers=headers).get_json()
        assert rotated["secret"] != endpoint["secret"]
        assert client.post(f"{item}/test", headers=headers).status_code == 202
        worker.deliver_due()  # nothing listens on port 9: the test event waits for a retry
        log = client.get(f"{item}/deliveries", headers=headers).get_json()
        assert [d["event_type"] for d in log["items"]] == ["webhook.test"]
        assert log["items"][0]["attempts"] == 1
        assert log["items"][0]["status"] == "queued"
        assert client.delete(item, headers=headers).status_code == 204
        assert client.get(item, headers=headers).status_code == 404
        db.session.remove()


def test_sign_up_through_the_api_answers_the_questions_by_the_forms_rules(client, app):
    from webinars.questions import service as questions

    owner = make_user()
    event = make_event(owner)
    sector = questions.add_question(
        event,
        questions.QuestionData(
            kind="single_choice", label="Sector", options="Public\nPrivate", required=True
        ),
    )
    topics = questions.add_question(
        event, questions.QuestionData(kind="multiple_choice", label="Topics", options="Energy\nWater")
    )
    agree = questions.add_question(event, questions.QuestionData(kind="checkbox", label="Newsletter"))
    url = f"/api/v1/webinars/{event.slug}/registrations"
    person = {"name": "Ana", "email": "ana@example.org", "consent": True}

    missing = client.post(url, json=person)
    assert missing.status_code == 422
    assert missing.content_type == PROBLEM
    assert f"answers.{sector.id}" in missing.get_json()["errors"]
    wrong = client.post(
        url,
        json={**person, "answers": {str(sector.id): "Other", str(topics.id): "Energy", "999999": "x"}},
    )
    assert wrong.status_code == 422
    assert set(wrong.get_json()["errors"]) == {
        f"answers.{sector.id}",
        f"answers.{topics.id}",
        "answers.999999",
    }
    assert db.session.scalar(select(func.count(Registration.id))) == 0

    accepted = client.post(
        url,
        json={
            **person,
            "answers": {str(sector.id): "Public", str(topics.id): ["Energy", "Water"], str(agree.id): True},
        },
    )
    assert accepted.status_code == 202, accepted.get_json()
    registration = db.session.scalars(select(Registration)).one()
    assert {answer.question_label: answer.value for answer in registration.answers} == {
        "Sector": "Public",
        "Topics": "Energy\nWater",
        "Newsletter": "yes",
    }

    headers = bearer(token_for(owner))
    added = client.post(
        f"/api/v1/manage/webinars/{event.id}/registrations",
        headers=headers,
        json={
            "name": "Ben",
            "email": "ben@example.org",
            "consent": True,
            "answers": {str(sector.id): "Private"},
        },
    )
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["registration"]["answers"][0]["value"] == "Private"
