"""Seed and inspect a benchmark database through the app's own services.

Run as ``python -m benchmarks.seed COMMAND ...`` with the app's environment (DATABASE_URL, SECRET_KEY,
WEBINARS_CONFIG...). Each command prints one line of JSON last.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from webinars import clock, create_app
from webinars.auth import service as accounts
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import notifications
from webinars.mail.compose import build_email_message
from webinars.models import (
    Event,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    Series,
    User,
)
from webinars.text import new_token

ORGANIZER = "organizer@bench.example.org"
PASSWORD = "benchmark password 16"
DESCRIPTION = """Speakers compare **smart specialisation** strategies in the Basque Country and Chile.

- Regional innovation policy and the Sustainable Development Goals
- Entrepreneurial discovery in practice
- Questions from the audience

Recording and slides will be published on this page afterwards."""


def organizer() -> User:
    user = db.session.scalar(select(User).where(User.email == ORGANIZER))
    return user or accounts.create_user(ORGANIZER, "Bench Organizer", PASSWORD, is_admin=True)


def make_event(owner: User, *, title: str, capacity: int | None, days: float = 30, **fields: Any) -> Event:
    data = events.EventData(
        title=title,
        starts_at=(clock.now() + timedelta(days=days)).replace(second=0, microsecond=0),
        timezone="America/Santiago",
        duration_minutes=90,
        summary="Regional innovation policy, from the Basque Country to Chile.",
        description_md=DESCRIPTION,
        join_url="https://meet.example.org/bench-room",
        capacity=capacity,
        speakers=[("Ane Etxeberria", "Orkestra, Basque Country"), ("Camila Rojas", "Universidad de Chile")],
        **fields,
    )
    event = events.create_event(owner, data)
    events.publish(event)
    return event


def cmd_web(args: argparse.Namespace) -> dict[str, Any]:
    """The organizer, one webinar with ``--capacity`` seats and a series of ``--series`` webinars."""
    owner = organizer()
    event = make_event(
        owner, title="Webinar #16: Smart Specialisation Strategies and Sustainability", capacity=args.capacity
    )
    result: dict[str, Any] = {"event_slug": event.slug, "event_id": event.id, "organizer": ORGANIZER}
    if args.series:
        series = Series(title="Smart Specialisation webinars", slug="smart-specialisation-webinars")
        series.owners.append(owner)
        db.session.add(series)
        db.session.commit()
        started = time.monotonic()
        for number in range(1, args.series + 1):
            make_event(
                owner,
                title=f"Webinar #{number}: Regional innovation, session {number}",
                capacity=100,
                days=1 + number,
                series_id=series.id,
                number=number,
            )
        result.update(series_slug=series.slug, series_events=args.series)
        result["series_seconds"] = round(time.monotonic() - started, 1)
    return result


def cmd_event(args: argparse.Namespace) -> dict[str, Any]:
    event = make_event(organizer(), title=args.title, capacity=args.capacity)
    return {"event_slug": event.slug, "event_id": event.id}


def cmd_invites(args: argparse.Namespace) -> dict[str, Any]:
    """A webinar with ``--count`` confirmed people, each with the invitation the app queues for them.

    The registrations are inserted in chunks (faster than one request each); every invitation is
    rendered by notifications.send, exactly as the registration path does.
    """
    event = make_event(organizer(), title=args.title, capacity=args.count)
    kind = MailKind(args.kind)
    started = time.monotonic()
    now = clock.now()
    for first in range(0, args.count, 500):
        chunk = [
            Registration(
                event=event,
                email=f"{args.prefix}{n}@bench.example.org",
                name=f"Invitee {n}",
                organisation="Bench",
                status=RegistrationStatus.CONFIRMED,
                token=new_token(),
                consent=True,
                locale="en",
                created_at=now,
                confirmed_at=now,
            )
            for n in range(first, min(first + 500, args.count))
        ]
        db.session.add_all(chunk)
        db.session.flush()
        for registration in chunk:
            notifications.send(registration, kind, offset_minutes=60 if kind == MailKind.REMINDER else None)
        event.seats_taken = event.seats_taken + len(chunk)
        db.session.commit()
    return {
        "event_slug": event.slug,
        "event_id": event.id,
        "count": args.count,
        "seconds": round(time.monotonic() - started, 1),
    }


def cmd_reminders(args: argparse.Namespace) -> dict[str, Any]:
    """A webinar starting in 50 minutes with ``--count`` confirmed people and no reminder sent yet: the
    worker's reminder pass queues the one-hour reminder for all of them on its first loop."""
    event = make_event(organizer(), title=args.title, capacity=args.count, days=50 / (24 * 60))
    now = clock.now()
    for first in range(0, args.count, 1000):
        db.session.add_all(
            Registration(
                event=event,
                email=f"reminded{n}@bench.example.org",
                name=f"Reminded {n}",
                status=RegistrationStatus.CONFIRMED,
                token=new_token(),
                consent=True,
                locale="en",
                created_at=now,
                confirmed_at=now,
            )
            for n in range(first, min(first + 1000, args.count))
        )
        db.session.flush()
    event.seats_taken = args.count
    db.session.commit()
    return {"event_slug": event.slug, "event_id": event.id, "count": args.count}


def cmd_signups(args: argparse.Namespace) -> dict[str, Any]:
    """Open-loop sign-ups for one webinar: the n-th arrives ``n / --rate`` seconds after the start,
    whether or not the ones before were served (as visitors do), through the registration service.
    Returns, for each, its confirmation's Message-ID and the moment its commit returned."""
    from webinars.registrations import service as registrations

    event = db.session.scalar(select(Event).where(Event.slug == args.slug))
    if event is None:
        raise SystemExit(f"no webinar {args.slug}")
    event_id = event.id
    started = time.time()
    signed: list[tuple[str, float]] = []
    for n in range(args.count):
        time.sleep(max(0.0, started + n / args.rate - time.time()))
        event = db.session.get(Event, event_id)
        assert event is not None
        outcome = registrations.register(
            event, name=f"Visitor {n}", email=f"visitor{n}@bench.example.org", consent=True
        )
        committed = time.time()
        message_id = db.session.scalar(
            select(OutboxMessage.message_id).where(
                OutboxMessage.registration_id == outcome.registration.id,
                OutboxMessage.kind == MailKind.REGISTRATION_CONFIRMED,
            )
        )
        signed.append((message_id or "-", committed))
        db.session.remove()
    return {"signups": signed, "seconds": round(time.time() - started, 2)}


def _at(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def cmd_stats(args: argparse.Namespace) -> dict[str, Any]:
    """Counts for one webinar (and, with --details, every registration and message)."""
    event = db.session.scalar(select(Event).where(Event.slug == args.slug))
    if event is None:
        raise SystemExit(f"no webinar {args.slug}")
    by_status = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        ).all()
    )
    outbox = {
        f"{kind}/{status}": count
        for kind, status, count in db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count())
            .where(OutboxMessage.event_id == event.id)
            .group_by(OutboxMessage.kind, OutboxMessage.status)
        )
    }
    result: dict[str, Any] = {
        "event_id": event.id,
        "capacity": event.capacity,
        "seats_taken": event.seats_taken,
        "registrations": by_status,
        "outbox": outbox,
        "outbox_pending": sum(
            count for key, count in outbox.items() if key.endswith(("/queued", "/sending"))
        ),
    }
    since, until = _at(args.since), _at(args.until)
    if since and until:
        result["confirmed_in_window"] = db.session.scalar(
            select(func.count()).where(
                Registration.event_id == event.id,
                Registration.confirmed_at >= since,
                Registration.confirmed_at < until,
            )
        )
        result["created_in_window"] = db.session.scalar(
            select(func.count()).where(
                Registration.event_id == event.id,
                Registration.created_at >= since,
                Registration.created_at < until,
            )
        )
    if args.details:
        result["people"] = {
            email: [rid, status]
            for rid, email, status in db.session.execute(
                select(Registration.id, Registration.email, Registration.status).where(
                    Registration.event_id == event.id
                )
            )
        }
        result["messages"] = {
            message_id: [registration_id, kind, status, attempts]
            for message_id, registration_id, kind, status, attempts in db.session.execute(
                select(
                    OutboxMessage.message_id,
                    OutboxMessage.registration_id,
                    OutboxMessage.kind,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                ).where(OutboxMessage.event_id == event.id)
            )
        }
    return result


def cmd_reset_outbox(args: argparse.Namespace) -> dict[str, Any]:
    """Queue every message again (to deliver the same messages a second time with other settings)."""
    result = db.session.execute(
        update(OutboxMessage).values(
            status=OutboxStatus.QUEUED,
            attempts=0,
            sent_at=None,
            locked_until=None,
            last_error=None,
            next_attempt_at=clock.now(),
        )
    )
    db.session.commit()
    return {"requeued": result.rowcount}


def cmd_dump_mime(args: argparse.Namespace) -> dict[str, Any]:
    """Build every outbox message into bytes, as the worker would, for the raw-smtplib baseline.

    A message queued without its bodies is rendered the way the worker renders it (worker._Batch,
    where the app has it)."""
    from flask import current_app

    from webinars.mail import worker

    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    batch_class = getattr(worker, "_Batch", None)
    ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    items = []
    for first in range(0, len(ids), 500):
        chunk = ids[first : first + 500]
        if batch_class is not None:
            batch = batch_class(chunk)
            messages = batch.messages
            for message in messages:
                batch.content(message)
        else:
            messages = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chunk))))
        for message in messages:
            mime = build_email_message(message, sender=sender)
            items.append((mime["From"].addresses[0].addr_spec, message.recipient, mime.as_bytes()))
        db.session.rollback()
    with open(args.out, "wb") as handle:
        pickle.dump(items, handle)
    return {"messages": len(items), "bytes": sum(len(item[2]) for item in items)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed")
    commands = parser.add_subparsers(dest="command", required=True)
    web = commands.add_parser("web")
    web.add_argument("--capacity", type=int, default=10_000)
    web.add_argument("--series", type=int, default=500)
    one = commands.add_parser("event")
    one.add_argument("--capacity", type=int, required=True)
    one.add_argument("--title", default="Webinar #17: Scale run")
    invites = commands.add_parser("invites")
    invites.add_argument("--count", type=int, required=True)
    invites.add_argument("--title", default="Webinar #18: Mail throughput")
    invites.add_argument("--kind", default=MailKind.REGISTRATION_CONFIRMED.value)
    invites.add_argument("--prefix", default="invitee")
    reminders = commands.add_parser("reminders")
    reminders.add_argument("--count", type=int, required=True)
    reminders.add_argument("--title", default="Webinar #15: Reminders draining")
    signups = commands.add_parser("signups")
    signups.add_argument("--slug", required=True)
    signups.add_argument("--count", type=int, required=True)
    signups.add_argument("--rate", type=float, required=True)
    stats = commands.add_parser("stats")
    stats.add_argument("--slug", required=True)
    stats.add_argument("--since", type=float)
    stats.add_argument("--until", type=float)
    stats.add_argument("--details", action="store_true")
    commands.add_parser("reset-outbox")
    dump = commands.add_parser("dump-mime")
    dump.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    handlers = {
        "web": cmd_web,
        "event": cmd_event,
        "invites": cmd_invites,
        "reminders": cmd_reminders,
        "signups": cmd_signups,
        "stats": cmd_stats,
        "reset-outbox": cmd_reset_outbox,
        "dump-mime": cmd_dump_mime,
    }
    app = create_app()
    with app.app_context():
        result = handlers[args.command](args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
