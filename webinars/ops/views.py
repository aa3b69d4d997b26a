"""/healthz, /readyz and /metrics: plain answers for load balancers, orchestrators and scrapers."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST

from ..extensions import limiter
from . import health, metrics

bp = Blueprint("ops", __name__)
limiter.exempt(bp)  # probes and scrapers poll; no site-wide default limit may ever turn them away


@bp.after_request
def _uncached(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """The process answers: nothing else is asked, so a database outage does not restart every web process."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    result = health.readiness()
    return jsonify(
        status="ok" if result.ok else "unavailable", checks=result.checks
    ), 200 if result.ok else 503


@bp.route("/metrics")
def prometheus_metrics() -> ResponseReturnValue:
    if not current_app.config["METRICS_ENABLED"]:
        abort(404)
    token = current_app.config["METRICS_TOKEN"]
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(offered.encode(), token.encode()):
            abort(403)
    return metrics.exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST}
