"""Webhooks: signed per Standard Webhooks (checked with the independent ``standardwebhooks``
package), written with the change, delivered by the worker exactly once, with retries, isolation
between endpoints and the address rules; the organizer pages and their permissions."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.factories import make_event, make_user
from tests.helpers import deliver_with_workers_at_once, free_port, import_or_skip, login, submit
from tests.webhook_receiver import Receiver
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import (
    Event,
    OutboxStatus,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from webinars.registrations import service as registrations
from webinars.rules import RuleError
from webinars.series import service as series_service
from webinars.webhooks import addresses
from webinars.webhooks import service as webhooks

ALL_EVENTS = [kind.value for kind in webhooks.SUBSCRIBABLE]


@pytest.fixture
def hook_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """The app with loopback endpoints allowed, as the README says tests run it."""
    made = app_factory(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOKS_TIMEOUT=5)
    with made.app_context():
        yield made
        db.session.remove()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(free_port()).start()
    yield started
    started.stop()


def verify_all(receiver: Receiver, secret: str) -> None:
    """Every request carries a valid signature, checked by an implementation that is not ours."""
    standardwebhooks = import_or_skip("standardwebhooks", "standardwebhooks is not installed (dev extra)")
    verifier = standardwebhooks.Webhook(secret)
    assert receiver.received, "nothing was received"
    for request in receiver.received:
        verifier.verify(request.body, request.headers)  # raises on a bad or missing signature


def endpoint_for(target: Event, url: str, kinds: list[str] | None = None) -> WebhookEndpoint:
    owner = db.session.get(User, target.owner_id)
    assert owner is not None
    return webhooks.create_endpoint(
        target, webhooks.EndpointData(url=url, event_types=kinds or ALL_EVENTS), owner
    )


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_every_event_is_signed_and_received_once_in_order(hook_app, receiver):
    event = make_event(capacity=1, publish=False)
    endpoint = endpoint_for(event, receiver.url)
    events.publish(event)
    first = registrations.register(event, name="Ana", email="ana@example.org", consent=True).registration
    second = registrations.register(event, name="Ben", email="ben@example.org", consent=True).registration
    registrations.cancel(first)  # Ben takes the freed seat
    data = events.EventData.from_event(event)
    data.title = "Webinar #16: Smart Regions, revised"
    events.update_event(event, data)
    events.cancel_event(event)

    worker.deliver_due()
    worker.deliver_due()  # a second pass finds nothing left to send

    assert receiver.types() == [
        "webinar.published",
        "registration.created",
        "registration.created",
        "registration.cancelled",
        "registration.promoted",
        "webinar.updated",
        "webinar.cancelled",
    ]
    verify_all(receiver, endpoint.secret)
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(set(ids)) == len(ids), "a webhook-id was used twice"
    promoted = receiver.received[4].document["data"]
    assert promoted["registration"]["id"] == second.id
    assert promoted["registration"]["status"] == "confirmed"
    assert promoted["webinar"]["slug"] == event.slug
    assert receiver.received[5].document["data"]["webinar"]["title"] == "Webinar #16: Smart Regions, revised"
    assert {d.status for d in deliveries()} == {OutboxStatus.SENT}


def test_registration_payload_carries_the_custom_answers(hook_app, receiver):
    from webinars.questions import service as questions

    event = make_event()
    question = questions.add_question(event, questions.QuestionData(kind="short_text", label="Your role"))
    endpoint_for(event, receiver.url, ["registration.created"])
    registrations.register(
        event, name="Ana", email="ana@example.org", consent=True, answers={question.id: "Researcher"}
    )
    worker.deliver_due()
    [request] = receiver.received
    answers = request.document["data"]["registration"]["answers"]
    assert answers == [
        {"question_id": question.id, "question": "Your role", "kind": "short_text", "value": "Researcher"}
    ]


def test_a_change_rolled_back_leaves_no_delivery(hook_app, receiver):
    event = make_event()
    endpoint_for(event, receiver.url)
    data = events.EventData.from_event(event)
    data.title = "bad\ntitle"
    with pytest.raises(RuleError):
        events.update_event(event, data)
    db.session.rollback()
    assert deliveries() == []


def test_a_second_worker_process_and_a_second_pass_never_send_again(app_factory, receiver):
    first = app_factory(WEBHOOKS_ALLOW_PRIVATE=True, WORKER_BATCH_SIZE=5)
    second = app_factory(WEBHOOKS_ALLOW_PRIVATE=True, WORKER_BATCH_SIZE=5)
    with first.app_context():
        event = make_event()
        endpoint = endpoint_for(event, receiver.url, ["registration.created"])
        secret = endpoint.secret
        for n in range(30):
            registrations.register(event, name=f"Person {n}", email=f"p{n}@example.org", consent=True)
        db.session.remove()
    deliver_with_workers_at_once([first, second])
    with first.app_context():
        runner = first.test_cli_runner()
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0
        assert len(receiver.received) == 30
        emails = sorted(r.document["data"]["registration"]["email"] for r in receiver.received)
        assert emails == sorted(f"p{n}@example.org" for n in range(30))
        verify_all(receiver, secret)
        db.session.remove()


def test_a_receiver_down_then_up_gets_the_event_once(hook_app, frozen_clock):
    port = free_port()
    event = make_event()
    endpoint = endpoint_for(event, f"http://127.0.0.1:{port}/hooks")
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)

    worker.deliver_due()  # nobody listens: refused, deferred
    [waiting] = deliveries()
    assert waiting.status == OutboxStatus.QUEUED
    assert waiting.attempts == 1
    assert waiting.last_error

    receiver = Receiver(port).start()
    try:
        worker.deliver_due()
        assert receiver.received == [], "retried before its back-off ran out"
        frozen_clock.advance(seconds=11)
        worker.deliver_due()
        frozen_clock.advance(seconds=600)
        worker.deliver_due()
        assert receiver.types() == ["registration.created"]
        verify_all(receiver, endpoint.secret)
        [sent] = deliveries()
        assert sent.status == OutboxStatus.SENT
        assert sent.attempts == 2
        assert sent.last_status_code == 204
        assert receiver.received[0].headers["webhook-id"] == sent.message_id
    finally:
        receiver.stop()


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(hook_app, receiver, frozen_clock):
    from webinars.webhooks import delivery

    event = make_event()
    endpoint_for(event, receiver.url, ["registration.created"])
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    [claimed] = delivery.claim(10)  # the worker that claimed it dies before sending
    worker.deliver_due()
    assert receiver.received == [], "another worker took a delivery still under lease"
    frozen_clock.advance(seconds=hook_app.config["WORKER_LEASE_SECONDS"] + 1)
    worker.deliver_due()
    worker.deliver_due()
    [request] = receiver.received
    [sent] = deliveries()
    assert sent.id == claimed
    assert request.headers["webhook-id"] == sent.message_id
    assert sent.status == OutboxStatus.SENT


def test_a_failing_endpoint_never_holds_up_another(hook_app, frozen_clock, receiver):
    broken = Receiver(free_port(), answer=lambda _request: 500).start()
    try:
        event = make_event()
        endpoint_for(event, broken.url, ["registration.created"])
        endpoint_for(event, receiver.url, ["registration.created"])
        for n in range(3):
            registrations.register(event, name=f"P{n}", email=f"p{n}@example.org", consent=True)
        worker.deliver_due()
        assert len(receiver.received) == 3
        # One request to the broken endpoint this pass: its other deliveries are deferred with it.
        assert len(broken.received) == 1
        for _ in range(6):
            frozen_clock.advance(seconds=1000)
            worker.deliver_due()
        failed = [d for d in deliveries() if d.status == OutboxStatus.FAILED]
        assert len(failed) == 3
        assert {d.last_status_code for d in failed} == {500}
        assert {d.attempts for d in failed} == {6}  # the first try and the five retries
        assert len(broken.received) == 6
        assert len(receiver.received) == 3
    finally:
        broken.stop()


def test_410_gone_fails_the_delivery_and_disables_the_endpoint(hook_app, frozen_clock):
    gone = Receiver(free_port(), answer=lambda _request: 410).start()
    try:
        event = make_event()
        endpoint = endpoint_for(event, gone.url, ["registration.created"])
        registrations.register(event, name="Ana", email="ana@example.org", consent=True)
        worker.deliver_due()
        registrations.register(event, name="Ben", email="ben@example.org", consent=True)
        frozen_clock.advance(seconds=1000)
        worker.deliver_due()
        assert len(gone.received) == 1
        db.session.refresh(endpoint)
        assert endpoint.active is False
        assert "410" in endpoint.disabled_reason
        [delivery] = deliveries()
        assert delivery.status == OutboxStatus.FAILED
    finally:
        gone.stop()


def test_a_series_endpoint_hears_about_every_webinar_of_the_series(hook_app, receiver):
    owner = make_user()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart Regions"))
    endpoint = webhooks.create_endpoint(
        series, webhooks.EndpointData(url=receiver.url, event_types=["webinar.published"]), owner
    )
    make_event(owner, series_id=series.id)
    make_event(owner)  # not in the series
    worker.deliver_due()
    assert receiver.types() == ["webinar.published"]
    verify_all(receiver, endpoint.secret)


def test_after_a_rotation_both_secrets_sign_for_a_day(hook_app, receiver, frozen_clock):
    standardwebhooks = import_or_skip("standardwebhooks", "standardwebhooks is not installed (dev extra)")
    event = make_event()
    endpoint = endpoint_for(event, receiver.url, ["registration.created"])
    old = endpoint.secret
    webhooks.rotate_secret(endpoint)
    assert endpoint.secret != old
    assert endpoint.secret.startswith("whsec_")
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    worker.deliver_due()
    frozen_clock.advance(hours=25)
    registrations.register(event, name="Ben", email="ben@example.org", consent=True)
    worker.deliver_due()
    first, second = receiver.received
    for secret in (old, endpoint.secret):
        standardwebhooks.Webhook(secret).verify(first.body, first.headers)
    standardwebhooks.Webhook(endpoint.secret).verify(second.body, second.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(second.body, second.headers)


def test_erasing_a_person_empties_the_payloads_that_named_them(hook_app, receiver):
    from webinars.privacy import service as privacy

    event = make_event()
    endpoint_for(event, receiver.url, ["registration.created"])
    outcome = registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    privacy.erase(outcome.registration)
    assert all("ana@example.org" not in d.payload for d in deliveries())
    worker.deliver_due()
    assert receiver.received == [], "a delivery naming an erased person was sent"


# --- addresses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",
        "224.0.0.1",
        "192.0.2.1",
    ],
)
def test_loopback_private_link_local_and_reserved_addresses_are_not_public(address):
    assert not addresses.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_global_addresses_are_public(address):
    assert addresses.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 written as one number
        "https://0x7f000001/hook",
        "http://93.184.215.14/hook",  # public, but plain http
    ],
)
def test_private_addresses_and_plain_http_are_refused_when_saving(app, url):
    owner = make_user()
    event = make_event(owner)
    with pytest.raises(RuleError) as refused:
        webhooks.create_endpoint(event, webhooks.EndpointData(url=url, event_types=ALL_EVENTS), owner)
    assert "url" in refused.value.errors
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 0


def test_an_address_that_became_private_is_refused_at_delivery(app_factory, receiver):
    permissive = app_factory(WEBHOOKS_ALLOW_PRIVATE=True)
    with permissive.app_context():
        event = make_event()
        endpoint_for(event, receiver.url, ["registration.created"])
        registrations.register(event, name="Ana", email="ana@example.org", consent=True)
        db.session.remove()
    strict = app_factory(WEBHOOKS_ALLOW_PRIVATE=False)
    with strict.app_context():
        worker.deliver_due()
        [delivery] = deliveries()
        assert delivery.status == OutboxStatus.QUEUED
        assert "refused before sending" in (delivery.last_error or "")
        assert receiver.received == []
        db.session.remove()


# --- organizer pages -------------------------------------------------------------------------------


def test_organizer_adds_an_endpoint_from_the_webinar_page_and_sends_a_test_event(hook_app, receiver):
    client = hook_app.test_client()
    owner = make_user()
    event = make_event(owner)
    login(client, owner)
    manage_page = client.get(f"/manage/webinars/{event.id}").get_data(as_text=True)
    assert f"/manage/webinars/{event.id}/webhooks" in manage_page
    response = submit(
        client,
        f"/manage/webinars/{event.id}/webhooks",
        {
            "url": receiver.url,
            "description": "CRM",
            "event_types": ["registration.created", "webinar.updated"],
        },
    )
    assert response.status_code == 302
    endpoint = db.session.scalars(db.select(WebhookEndpoint)).one()
    assert endpoint.event_type_list == [
        WebhookEventType.REGISTRATION_CREATED,
        WebhookEventType.WEBINAR_UPDATED,
    ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in page
    assert "Send test event" in page

    sent = submit(
        client, f"/manage/webhooks/{endpoint.id}/test", {}, form_page=f"/manage/webhooks/{endpoint.id}"
    )
    assert sent.status_code == 302
    worker.deliver_due()
    assert receiver.types() == ["webhook.test"]
    verify_all(receiver, endpoint.secret)

    log = client.get(f"/manage/webhooks/{endpoint.id}").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td>A test event \(webhook\.test\).*?</tr>", log, re.S)
    assert row, "the test event is not in the delivery log"
    assert "Sent" in row.group(0)
    assert "204" in row.group(0)


def test_the_series_page_links_to_its_webhooks(hook_app):
    client = hook_app.test_client()
    owner = make_user()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart Regions"))
    login(client, owner)
    listing = client.get("/manage/series").get_data(as_text=True)
    assert f"/manage/series/{series.id}/webhooks" in listing
    assert client.get(f"/manage/series/{series.id}/webhooks").status_code == 200


HOSTILE_URLS = [
    "javascript:alert(1)",
    "http://exa mple.org/",
    "https://example.org/\r\nX-Injected: 1",
    "https://example.org/\x00",
    "https://user:secret@example.org/hook",
    "https://" + "a" * 600 + ".org/",
    "https://example.org:99999/",
    "https://[::1/",
    "ftp://example.org/",
    "https://\u202eevil.org/",
    "",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_get_a_message_beside_the_field(client, auth, url):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    response = submit(
        client, f"/manage/webinars/{event.id}/webhooks", {"url": url, "event_types": ALL_EVENTS}
    )
    assert response.status_code == 400
    assert 'id="url-error"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 0


def test_an_unknown_event_name_is_refused_beside_its_field(client, auth):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    response = submit(
        client,
        f"/manage/webinars/{event.id}/webhooks",
        {"url": "https://example.org/", "event_types": ["x\x01"]},
    )
    assert response.status_code == 400
    assert 'id="event_types-error"' in response.get_data(as_text=True)


def test_another_organizer_gets_404_on_every_webhook_page(hook_app, receiver):
    client = hook_app.test_client()
    owner, other = make_user(), make_user()
    event = make_event(owner)
    endpoint = endpoint_for(event, receiver.url)
    login(client, other)
    assert client.get(f"/manage/webinars/{event.id}/webhooks").status_code == 404
    assert client.get(f"/manage/webhooks/{endpoint.id}").status_code == 404
    for action in ("test", "rotate", "pause", "resume", "delete"):
        response = submit(client, f"/manage/webhooks/{endpoint.id}/{action}", {}, form_page="/manage/")
        assert response.status_code == 404, f"{action} answered {response.status_code}"
    db.session.refresh(endpoint)
    assert endpoint.active
    assert deliveries() == []


def test_pausing_withholds_what_waits_and_writes_nothing_new(hook_app, receiver):
    event = make_event()
    endpoint = endpoint_for(event, receiver.url, ["registration.created"])
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    webhooks.set_active(endpoint, False)
    registrations.register(event, name="Ben", email="ben@example.org", consent=True)
    worker.deliver_due()
    assert receiver.received == []
    assert [d.status for d in deliveries()] == [OutboxStatus.WITHHELD]
    assert json.loads(deliveries()[0].payload)["type"] == "registration.created"
