"""The mail worker's own metrics: it serves no web pages, so it exposes them on a port or in a text file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from threading import Thread

from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import MetricsHandler
from prometheus_client.registry import Collector

from .metrics import OutboxCollector, process_registry


class _InAppContext(Collector):
    """The outbox gauges read the database, which needs the app's context in the server's thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator:  # type: ignore[type-arg]
        from ..extensions import db

        with self.app.app_context():
            try:
                yield from OutboxCollector().collect()
            finally:
                db.session.remove()


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_InAppContext(app))
    return registry


def exposition(app: Flask) -> bytes:
    return generate_latest(process_registry()) + generate_latest(_registry(app))


def serve(app: Flask, address: str, port: int) -> ThreadingHTTPServer:
    """Serve /metrics from a daemon thread for as long as the worker runs."""

    class Handler(MetricsHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = exposition(app)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not worth a log line
            return

    server = ThreadingHTTPServer((address, port), Handler)
    Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def write_textfile(path: str) -> None:
    """Write atomically: node_exporter must never read half a file."""
    from flask import current_app

    body = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".metrics-", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
