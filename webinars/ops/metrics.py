"""Prometheus metrics.

Counters live in this process (or, under gunicorn, in files shared by its processes when
PROMETHEUS_MULTIPROC_DIR is set before start-up: see ``webinars.gunicorn_config``). The outbox gauges
are read from the database at scrape time, so every process and every scraper sees the same numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..models import OutboxMessage, OutboxStatus

HTTP_REQUESTS = Counter(
    "webinars_http_requests", "HTTP requests answered, by endpoint and status.", ["endpoint", "status"]
)
HTTP_DURATION = Histogram(
    "webinars_http_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SIGNUPS = Counter(
    "webinars_signups",
    "Sign-up attempts, by outcome: confirmed, waitlisted, repeated, refused, invalid, honeypot.",
    ["outcome"],
)
DELIVERIES = Counter(
    "webinars_mail_deliveries", "Delivery attempts of outbox messages, by outcome.", ["outcome"]
)

# Status values are few and fixed: label every one, so a status that empties reads 0, not absent.
_STATUSES = tuple(status.value for status in OutboxStatus)


def outbox_snapshot() -> tuple[dict[str, int], float | None]:
    """Messages per status, and how many seconds the oldest due queued message has waited (None: none due)."""
    counts = dict.fromkeys(_STATUSES, 0)
    for status, number in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[str(status)] = number
    now = clock.now()
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now
        )
    )
    age = None if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return counts, age


class OutboxCollector(Collector):
    """Reads the outbox when scraped; needs an app context."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts, age = outbox_snapshot()
        depth = GaugeMetricFamily("webinars_outbox_messages", "Outbox messages by status.", labels=["status"])
        for status, number in counts.items():
            depth.add_metric([status], number)
        yield depth
        yield GaugeMetricFamily(
            "webinars_outbox_oldest_due_age_seconds",
            "How long the oldest due message has waited to be sent (0 when none is due).",
            value=age or 0.0,
        )
        from .health import mail_relay_health

        relay = mail_relay_health()
        if relay is not None:
            yield GaugeMetricFamily(
                "webinars_mail_relay_healthy",
                "1 while the mail relay accepts mail, 0 while backing off.",
                value=int(relay[0]),
            )


def process_registry() -> CollectorRegistry:
    """This process's counters, or every gunicorn process's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """The text a scraper reads: the counters, then the outbox as it is now."""
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    db.session.rollback()  # a fresh snapshot, whatever this session saw before
    try:
        return generate_latest(process_registry()) + generate_latest(outbox)
    finally:
        db.session.rollback()


def register(app: Flask) -> None:
    """Count every answer by endpoint (never by path: hostile paths must not grow the label set)."""

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        HTTP_REQUESTS.labels(endpoint=endpoint, status=str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            HTTP_DURATION.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        return response
