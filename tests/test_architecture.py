"""The import graph keeps the shape docs/architecture.md describes (contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from tests.helpers import import_or_skip
from webinars.broadcasts.service import expand_pending
from webinars.mail import producers, reminders
from webinars.privacy.service import purge_when_due
from webinars.webhooks import delivery as webhook_delivery

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    import_or_skip("importlinter.cli", "import-linter is not installed (pip install -e '.[dev]')")
    # In a process of its own: the linter configures logging with dictConfig, which would silence
    # every logger the suite has created so far (and the tests that read their lines).
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--config", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_domain_registers_its_mail_producers_once_and_in_order(app: Flask):
    expected = [reminders.enqueue_due, expand_pending, purge_when_due, webhook_delivery.deliver_due]
    assert producers.registered(app) == expected
    producers.register(app, reminders.enqueue_due)
    assert producers.registered(app) == expected, "registered twice"


def test_the_worker_runs_whatever_producers_the_app_has(app: Flask):
    calls: list[str] = []

    def retention_job() -> int:
        calls.append("ran")
        return 0

    producers.register(app, retention_job)
    assert producers.produce_due() == 0
    assert calls == ["ran"]
