"""``flask --app webinars check``: what is wrong with this configuration, before users find out.

Installed as a Flask plugin command, so it runs even when the app refuses to start: the missing
SECRET_KEY is then reported like any other problem instead of stopping the check.
"""

from __future__ import annotations

import smtplib
import ssl
from urllib.parse import urlsplit

import click
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

# Long enough for a brute force on the session signature to be hopeless.
MIN_SECRET_KEY_LENGTH = 32


def _load(info: ScriptInfo) -> tuple[Flask, list[str]]:
    from .. import MissingSecretKey, create_app

    try:
        return info.load_app(), []
    except MissingSecretKey:
        # Only so the other checks can run; nothing is served or signed with this placeholder.
        return create_app(SECRET_KEY="placeholder-for-checking-only"), ["SECRET_KEY is not set."]
    except Exception as error:  # noqa: BLE001 - whatever stops the app from loading is the report
        raise click.ClickException(f"The app does not load: {type(error).__name__}: {error}") from error


def configuration_problems(app: Flask) -> list[str]:
    """Settings that cannot work, or are unsafe, for the configuration this app runs with."""
    config = app.config
    problems: list[str] = []
    production = not (app.debug or app.testing)
    secret = config.get("SECRET_KEY") or ""
    if production and len(secret) < MIN_SECRET_KEY_LENGTH and secret != "placeholder-for-checking-only":
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters.")
    base = urlsplit(config["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.hostname:
        problems.append(f"BASE_URL is not an absolute http(s) URL: {config['BASE_URL']!r}.")
    elif production and base.scheme != "https":
        problems.append("BASE_URL uses http in production: links in emails and cookies need https.")
    if production and config["RATELIMIT_ENABLED"] and config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        problems.append(
            "RATELIMIT_STORAGE_URI is memory://: each web process counts on its own; use redis://."
        )
    if production and not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is not set: mail is written to files instead of being sent.")
    if production and config.get("SETUP_OPEN"):
        problems.append("SETUP_OPEN is on: whoever reaches a fresh install first becomes its administrator.")
    return problems


def reachability_problems(app: Flask) -> list[str]:
    problems: list[str] = []
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        problems.append(f"The database is unreachable: {type(error).__name__}: {error}".splitlines()[0])
        db.session.rollback()
    else:
        from .health import applied_revisions, migration_heads

        applied, heads = applied_revisions(), migration_heads()
        if applied != heads:
            problems.append(
                f"The database is not at the latest migration ({sorted(applied) or 'none'} instead of "
                f"{sorted(heads)}): run `flask --app webinars db upgrade`."
            )
    problems.extend(_smtp_problems(app))
    return problems


def _smtp_problems(app: Flask) -> list[str]:
    config = app.config
    if not config.get("MAIL_SERVER"):
        return []
    timeout = min(config["MAIL_TIMEOUT"], 10)
    where = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    try:
        if config["MAIL_USE_SSL"]:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config["MAIL_SERVER"],
                config["MAIL_PORT"],
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        with client:
            client.ehlo()
            if config["MAIL_USE_TLS"]:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if config.get("MAIL_USERNAME"):
                client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            client.noop()
    except (OSError, smtplib.SMTPException) as error:
        return [f"The SMTP server {where} is unreachable or refused us: {type(error).__name__}: {error}"]
    return []


def send_test_email(address: str) -> int:
    """Queue one test message through the outbox (a worker sends it) and return its id."""
    from flask import current_app

    from ..database import writing
    from ..mail.outbox import enqueue
    from ..text import normalise_email

    recipient = normalise_email(address)
    site = current_app.config["SITE_NAME"]
    with writing():
        message = enqueue(
            kind="test",
            recipient=recipient,
            subject=f"{site}: test message",
            body_text=(
                f"This message was sent by `flask --app webinars check --send-test` on {site} "
                f"({current_app.config['BASE_URL']}).\nIf you read it, the mail worker delivers mail.\n"
            ),
        )
        db.session.commit()
        return message.id


@click.command("check")
@click.option("--send-test", "send_test", metavar="ADDRESS", help="Also queue a test email to ADDRESS.")
@click.pass_obj
def check_command(info: ScriptInfo, send_test: str | None) -> None:
    """Report misconfiguration: settings, database, migrations, SMTP. Exits 1 when anything is wrong."""
    app, problems = _load(info)
    with app.app_context():
        problems += configuration_problems(app)
        problems += reachability_problems(app)
        if send_test:
            try:
                message_id = send_test_email(send_test)
            except ValueError as error:
                problems.append(f"--send-test: {error}")
            except SQLAlchemyError as error:
                problems.append(f"--send-test could not queue the message: {type(error).__name__}")
            else:
                click.echo(f"Queued test message {message_id} to {send_test}; a running worker sends it.")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Configuration OK.")
