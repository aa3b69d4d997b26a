"""gunicorn settings for production: ``gunicorn -c python:webinars.gunicorn_config 'webinars:create_app()'``.

Command-line options still override these. With PROMETHEUS_MULTIPROC_DIR set, each gunicorn
process writes its counters to files there and /metrics adds them up; the folder must exist, be
writable, and be emptied before gunicorn starts (the README's systemd unit does it).
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Behind nginx: it buffers slow clients, so sync workers are enough.
worker_class = "sync"
timeout = 30
accesslog = None  # the app writes one line per request, with its request id
# gunicorn would believe X-Forwarded-Proto from 127.0.0.1 on its own; TRUSTED_PROXIES alone decides.
forwarded_allow_ips = ""


def child_exit(server: object, worker: object) -> None:
    """A process that exits leaves its gauges behind unless it is marked dead."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
