"""The import graph keeps the shape docs/architecture.md describes (contracts in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.helpers import import_or_skip
from webinars.broadcasts.service import expand_pending
from webinars.mail import producers, reminders
from webinars.privacy.service import purge_when_due

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold(capsys):
    linter = import_or_skip("importlinter.cli", "import-linter is not installed (pip install -e '.[dev]')")
    code = linter.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    report = capsys.readouterr().out
    assert code == 0, report


def test_each_domain_registers_its_mail_producers_once_and_in_order(app: Flask):
    expected = [reminders.enqueue_due, expand_pending, purge_when_due]
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
