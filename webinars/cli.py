"""Command-line tools: ``flask --app webinars <command>``."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask.globals import app_ctx
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from .auth import service as accounts
from .auth import tokens
from .events import archive_entries, archive_forms
from .extensions import db
from .mail import worker
from .models import TokenScope, User
from .ops import worker_metrics
from .rules import RuleError
from .series import service as series_service
from .text import has_control_characters, normalise_email

organizers = AppGroup("organizers", help="Manage organizer accounts.")


@organizers.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The organizer's full name.")
@click.option("--admin", is_flag=True, help="Make this account an administrator.")
def create_organizer(email: str, name: str, admin: bool) -> None:
    """Create an organizer account. The password is read from WEBINARS_PASSWORD or prompted for."""
    password = os.environ.get("WEBINARS_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if has_control_characters(name):
        raise click.ClickException("The name cannot hold line breaks or control characters.")
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")
    try:
        user = accounts.create_user(email, name, password, is_admin=admin)
    except ValueError as error:
        raise click.ClickException(f"Invalid email address: {error}") from error
    except accounts.AccountExists as error:
        raise click.ClickException(f"An account for {error} already exists.") from error
    role = "administrator" if user.is_admin else "organizer"
    click.echo(f"Created {role} {user.name} <{user.email}>.")


@organizers.command("invite")
@click.argument("email")
@click.option("--admin", is_flag=True, help="The new account will be an administrator.")
def invite_organizer(email: str, admin: bool) -> None:
    """Email a link with which the organizer opens their account (name and password of their own)."""
    try:
        invitation = accounts.invite_organizer(None, email, make_admin=admin)
    except RuleError as error:
        raise click.ClickException(" ".join(error.messages)) from error
    days = current_app.config["INVITATION_MAX_AGE"] // 86400
    click.echo(f"Invitation queued for {invitation.email}; the link works once, for {days} day(s).")


@organizers.command("setup-link")
def setup_link() -> None:
    """Print a one-time link that creates the first administrator (valid while no account exists)."""
    from .urls import external_url

    if not accounts.needs_setup():
        raise click.ClickException("An account exists already: set-up is closed.")
    hours = current_app.config["SETUP_LINK_MAX_AGE"] // 3600
    click.echo(external_url("auth.setup", token=accounts.setup_token()))
    click.echo(f"Open it within {hours} hour(s); it stops working once the administrator exists.", err=True)


@organizers.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
def create_token(email: str, name: str, scope: str) -> None:
    """Create a personal API token for an organizer and print it (shown this once), for scripts."""
    try:
        address = normalise_email(email)
    except ValueError as error:
        raise click.ClickException(f"Invalid email address: {error}") from error
    user = db.session.scalars(select(User).where(User.email == address)).first()
    if user is None:
        raise click.ClickException(f"No account for {address}.")
    _token, secret = tokens.create_token(user, name, TokenScope(scope))
    click.echo(secret)


archive = AppGroup("archive", help="Past webinars in the archive.")


@archive.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--owner", "owner_email", required=True, help="Email of the organizer who owns the entries.")
@click.option("--series", "series_slug", default="", help="Slug of the series to file them under.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; save nothing.")
def import_archive(path: str, owner_email: str, series_slug: str, dry_run: bool) -> None:
    """Import past webinars from a CSV or XLSX file: the same checks as the import page, all rows or none."""
    owner = db.session.scalar(select(User).where(func.lower(User.email) == owner_email.strip().lower()))
    if owner is None:
        raise click.ClickException(f"No organizer account for {owner_email}.")
    series_id = None
    if series_slug:
        series = series_service.by_slug(series_slug)
        if series is None:
            raise click.ClickException(f"No series with the address {series_slug}.")
        series_id = series.id
    with open(path, "rb") as file:
        content = file.read(archive_entries.MAX_IMPORT_BYTES + 1)
    try:
        records = archive_entries.read_file(os.path.basename(path), content)
    except archive_entries.FileUnreadable as error:
        raise click.ClickException(error.message) from error
    results = archive_forms.preview(owner, records, series_id)
    refused = [result for result in results if result.errors]
    for result in refused:
        click.echo(f"Row {result.line}: {'; '.join(result.errors)}", err=True)
    if refused:
        raise click.ClickException(f"{len(refused)} of {len(results)} rows have errors; nothing was saved.")
    if dry_run:
        click.echo(f"{len(results)} rows are ready to import.")
        return
    created = archive_entries.import_entries(owner, lambda: archive_forms.preview(owner, records, series_id))
    click.echo(f"Imported {len(created)} past webinars.")


@click.command("prune-images")
@click.option("--hours", default=1, show_default=True, type=int, help="Keep pictures younger than this.")
def prune_images_command(hours: int) -> None:
    """Delete pictures that were replaced or removed, and their files."""
    from datetime import timedelta

    from .images.service import prune_unused

    click.echo(f"Deleted {prune_unused(timedelta(hours=hours))} unused picture(s).")


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver everything that is due, then exit.")
@click.option(
    "--metrics-port", type=int, default=None, help="Serve this worker's Prometheus metrics on this port."
)
@click.option("--metrics-address", default="127.0.0.1", show_default=True, help="Address for --metrics-port.")
@click.option(
    "--metrics-textfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the metrics to this file after every pass (node_exporter's textfile collector).",
)
def worker_command(
    once: bool, metrics_port: int | None, metrics_address: str, metrics_textfile: str | None
) -> None:
    """Deliver queued mail: runs until stopped (SIGTERM or Ctrl-C), or once with --once."""
    if metrics_port is not None:
        worker_metrics.serve(app_ctx.app, metrics_address, metrics_port)
    after_pass = (lambda: worker_metrics.write_textfile(metrics_textfile)) if metrics_textfile else None
    if once:
        handled = worker.deliver_due(try_relay_now=True)
        if after_pass:
            after_pass()
        click.echo(f"Handled {handled} message(s).")
        return
    click.echo("Worker running; press Ctrl-C to stop.")
    worker.run_forever(after_pass=after_pass)


mail = AppGroup("mail", help="The outbox: retry failed mail, see the relay's state.")


@mail.command("retry-failed")
@click.option("--event", "event_id", type=int, help="Only this webinar's mail (its id).")
@click.option("--since", type=click.DateTime(), help="Only mail queued from this moment (UTC).")
@click.option("--until", type=click.DateTime(), help="Only mail queued before this moment (UTC).")
def retry_failed_command(event_id: int | None, since: datetime | None, until: datetime | None) -> None:
    """Queue every failed message again (of a webinar and/or a period) with fresh attempts."""
    from .mail import outbox

    count = outbox.retry_failed(
        event_id=event_id,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    click.echo(f"Queued {count} failed message(s) again.")


@mail.command("status")
def mail_status_command() -> None:
    """The relay's state as the workers last saw it, and the size of the queue."""
    from .mail.health import delivery_health

    health = delivery_health()
    click.echo(f"relay: {health.relay}")
    if not health.ok:
        click.echo(f"down since: {health.down_since}  next try: {health.paused_until}")
        click.echo(f"outages in a row: {health.consecutive_failures}  last error: {health.last_error}")
    click.echo(f"queued: {health.queued}  failed: {health.failed}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Development: serve the site and run the mail worker in the same process."""
    app = app_ctx.app  # the application itself, not the proxy: the worker thread needs it
    stop = threading.Event()

    def work() -> None:
        with app.app_context():
            worker.run_forever(stop)

    thread = threading.Thread(target=work, name="mail-worker", daemon=True)
    thread.start()
    folder = app.config["MAIL_SERVER"] or os.path.join(app.instance_path, app.config["MAIL_FOLDER"])
    click.echo(f"Mail worker running; mail goes to {folder}")
    try:
        # app.run() refuses to start from inside the flask command; run_simple is what it calls.
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stop.set()
        thread.join(timeout=10)


def register(app: Flask) -> None:
    app.cli.add_command(organizers)
    app.cli.add_command(archive)
    app.cli.add_command(worker_command)
    app.cli.add_command(prune_images_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(mail)
