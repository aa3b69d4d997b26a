"""What the domains count for Prometheus: sign-ups and mail deliveries.

They live in the core, not in ``webinars.ops``, because the web pages and the mail worker increment
them while ``ops`` sits above both (its check command queues mail): a counter defined there would
make ``mail`` and ``ops`` import each other. ``ops.metrics`` exposes them with the rest, since every
counter registers in the same process registry.
"""

from __future__ import annotations

from prometheus_client import Counter

SIGNUPS = Counter(
    "webinars_signups",
    "Sign-up attempts, by outcome: confirmed, waitlisted, repeated, refused, invalid, honeypot.",
    ["outcome"],
)
DELIVERIES = Counter(
    "webinars_mail_deliveries", "Delivery attempts of outbox messages, by outcome.", ["outcome"]
)
