"""Deliver webhooks: claim due deliveries, POST them signed, record the outcome, retry with back-off.

The same rules as mail (webinars.mail.worker): claims use FOR UPDATE SKIP LOCKED on PostgreSQL and a
lease, so two workers never send one delivery and a dead worker's claims are taken over; each
delivery is settled on its own. Outcomes:

- 2xx: delivered.
- 410 Gone: the receiver says the endpoint is gone for good. The delivery fails and the endpoint is
  disabled (with the reason on its page); resuming it is one click. Retrying a URL that said "gone"
  for days would only be noise on someone else's server.
- any other answer, a timeout, a refused connection, an address that now resolves inside the
  network: retried after ``WEBHOOKS_RETRY_DELAYS``, then failed.

Isolation: after one failure, the endpoint's other deliveries in the same batch are not tried but
deferred (and charged) alike, so a dead endpoint costs one timeout per pass, not one per waiting
event, and never holds up the other endpoints.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session, joinedload

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import OutboxStatus, WebhookDelivery, WebhookEventType
from . import addresses, service, signing

log = logging.getLogger(__name__)

# What a receiver's answer may add to the log: enough to recognise an error page, no more.
MAX_RESPONSE_EXCERPT = 300
USER_AGENT = "Webinars-Webhooks/1"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name in the URL, not the address.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class Answer:
    def __init__(self, status: int, excerpt: str) -> None:
        self.status = status
        self.excerpt = excerpt


Poster = Callable[[addresses.Target, bytes, dict[str, str], float], Answer]


def post(target: addresses.Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to the checked target; redirects are not followed (a 3xx is a failure)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, target.address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(MAX_RESPONSE_EXCERPT).decode("utf-8", "replace")
        return Answer(response.status, excerpt)
    finally:
        connection.close()


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("WORKER_LEASE_SECONDS", 300))


def claim(limit: int) -> list[int]:
    """Take up to ``limit`` due deliveries for this worker and commit the claim."""
    now = clock.now()
    with writing():
        db.session.rollback()
        due = or_(
            and_(WebhookDelivery.status == OutboxStatus.QUEUED, WebhookDelivery.next_attempt_at <= now),
            and_(WebhookDelivery.status == OutboxStatus.SENDING, WebhookDelivery.locked_until < now),
        )
        ids = list(
            db.session.scalars(
                select(WebhookDelivery.id)
                .where(due)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(status=OutboxStatus.SENDING, locked_until=now + _lease())
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return ids


def _record(delivery_id: int, *, gone_reason: str | None = None, **values: object) -> None:
    with writing():
        if db.session.get_bind().dialect.name == "postgresql":
            # As for mail: an outcome lost in a crash means one more delivery, which the receiver
            # recognises by its webhook-id.
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if gone_reason is not None:
            endpoint_id = db.session.scalar(
                select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id)
            )
            if endpoint_id is not None:
                service.disable_gone(endpoint_id, gone_reason)
        db.session.commit()


@dataclass(frozen=True)
class Failure:
    """Why a delivery to an endpoint failed in this pass."""

    error: str
    status_code: int | None


def _retry_or_fail(delivery: WebhookDelivery, error: str, status_code: int | None) -> Failure:
    """Defer the delivery, or fail it after the last delay."""
    delays = current_app.config["WEBHOOKS_RETRY_DELAYS"]
    attempts = delivery.attempts + 1
    if attempts > len(delays):
        _record(
            delivery.id,
            status=OutboxStatus.FAILED,
            attempts=attempts,
            last_error=error[:2000],
            last_status_code=status_code,
        )
        log.warning("webhook %s failed for good: %s", delivery.message_id, error)
        return Failure(error, status_code)
    delay = timedelta(seconds=delays[attempts - 1])
    _record(
        delivery.id,
        status=OutboxStatus.QUEUED,
        attempts=attempts,
        last_error=error[:2000],
        last_status_code=status_code,
        next_attempt_at=clock.now() + delay,
    )
    log.info("webhook %s deferred (attempt %s): %s", delivery.message_id, attempts, error)
    return Failure(error, status_code)


def _settle(delivery: WebhookDelivery, poster: Poster) -> Failure | None:
    """Send one delivery and record the outcome; the failure, when the receiver did not take it."""
    endpoint = delivery.endpoint
    if not endpoint.active and delivery.event_type != WebhookEventType.TEST:
        reason = f"withheld: the endpoint is disabled ({endpoint.disabled_reason})"
        _record(delivery.id, status=OutboxStatus.WITHHELD, last_error=reason[:2000])
        return None
    body = delivery.payload.encode("utf-8")
    # The receiver compares this with its own clock to refuse replays: real time, not the app's clock.
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.headers(service.secrets_in_use(endpoint), delivery.message_id, timestamp, body),
    }
    try:
        target = addresses.resolve(endpoint.url)
        answer = poster(target, body, headers, float(current_app.config["WEBHOOKS_TIMEOUT"]))
    except addresses.RefusedAddress as refused:
        return _retry_or_fail(delivery, f"refused before sending: {refused}", None)
    except (OSError, http.client.HTTPException) as error:  # timeouts, refused connections, TLS, bad answers
        return _retry_or_fail(delivery, f"{type(error).__name__}: {error}", None)
    if 200 <= answer.status < 300:
        _record(
            delivery.id,
            status=OutboxStatus.SENT,
            attempts=delivery.attempts + 1,
            delivered_at=clock.now(),
            last_status_code=answer.status,
            last_error=None,
        )
        return None
    refusal = f"HTTP {answer.status}: {answer.excerpt}".strip()
    if answer.status == 410:
        _record(
            delivery.id,
            status=OutboxStatus.FAILED,
            attempts=delivery.attempts + 1,
            last_status_code=410,
            last_error=refusal[:2000],
            gone_reason="The receiver answered 410 Gone: deliveries stopped.",
        )
        return None
    return _retry_or_fail(delivery, refusal, answer.status)


def deliver_batch(poster: Poster = post) -> int:
    """Claim one batch and deliver it. Returns how many deliveries were claimed."""
    ids = claim(current_app.config["WORKER_BATCH_SIZE"])
    if not ids:
        return 0
    with Session(db.engine, expire_on_commit=False) as session:
        batch = list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .options(joinedload(WebhookDelivery.endpoint))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            )
        )
    failing: dict[int, Failure] = {}
    for delivery in batch:
        if (failure := failing.get(delivery.endpoint_id)) is not None:
            # Charged as if tried: the endpoint just failed, and a dead one must not cost a timeout
            # per waiting event. So every delivery to it follows one retry schedule and ends failed
            # together, instead of each waiting behind the previous one's retries.
            reason = f"not tried: the endpoint failed moments before ({failure.error})"
            _retry_or_fail(delivery, reason, failure.status_code)
            continue
        failing_now = _settle(delivery, poster)
        if failing_now is not None:
            failing[delivery.endpoint_id] = failing_now
    return len(ids)


def deliver_due() -> int:
    """Deliver every due webhook; how many were handled. Registered with the worker (see __init__)."""
    handled = 0
    while claimed := deliver_batch():
        handled += claimed
    return handled
