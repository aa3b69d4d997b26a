"""Part 3: the scale runs. Two gunicorn instances and two outbox workers on one PostgreSQL; 2,000 people
load the form, then all press "Register" together for a webinar with 500 seats. Then the same through
PgBouncer in transaction pooling mode, with four gunicorn instances: 10,000 people for 2,000 seats.

Pass: exactly as many confirmed as seats and the rest waitlisted, every confirmed person receives
exactly one invitation (no waitlisted person receives one), and no answer is a 5xx.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import load
from .common import Database, Gunicorn, PgBouncer, app_env, free_port, log, migrate, seed, stop
from .mail import Sink, check_invites, start_worker, wait_drained


def start_instances(
    database: Database,
    sink: Sink,
    workdir: Path,
    name: str,
    *,
    seats: int,
    title: str,
    gunicorn_workers: int,
    apps: list[Gunicorn],
    instances: int = 2,
    database_url: str | None = None,
    **extra_env: Any,
) -> tuple[dict[str, str], str]:
    """Migrate, seed one webinar with ``seats``, start the SMTP sink and ``instances`` gunicorn instances.

    The instances are appended to ``apps`` as they start, so the caller stops whatever did start.
    Returns the app's environment and the webinar's slug.
    """
    env = app_env(
        database,
        workdir / f"instance-{name}",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        WORKER_POLL_SECONDS="0.5",
        **extra_env,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    migrate(env)
    slug = seed(["event", "--capacity", str(seats), "--title", title], env)["event_slug"]
    sink.start()
    for n in range(instances):
        apps.append(
            Gunicorn(
                "webinars:create_app()", env, gunicorn_workers, workdir / f"gunicorn-{name}-{n}.log"
            ).start()
        )
    return env, slug


def run(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    return _crowd(workdir, settings, "scale", settings["scale_people"], settings["scale_seats"], instances=2)


def run_pgbouncer(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The crowd through PgBouncer (transaction pooling), four gunicorn instances."""
    return _crowd(
        workdir,
        settings,
        "pgbouncer",
        settings["pgb_people"],
        settings["pgb_seats"],
        instances=4,
        pgbouncer=True,
    )


def _crowd(
    workdir: Path,
    settings: dict[str, Any],
    name: str,
    people: int,
    seats: int,
    *,
    instances: int,
    pgbouncer: bool = False,
) -> dict[str, Any]:
    database = Database.postgresql(name)
    sink = Sink(workdir, name, free_port())
    result: dict[str, Any] = {"people": people, "seats": seats, "instances": instances, "mail_workers": 2}
    apps: list[Gunicorn] = []
    workers = []
    bouncer = PgBouncer(database, workdir).start() if pgbouncer else None
    if bouncer is not None:
        result["pgbouncer"] = {"pool_mode": "transaction", "default_pool_size": bouncer.pool_size}
    try:
        env, slug = start_instances(
            database,
            sink,
            workdir,
            name,
            seats=seats,
            title=f"Webinar #17: {name} run",
            gunicorn_workers=settings["scale_gunicorn_workers"],
            apps=apps,
            instances=instances,
            database_url=bouncer.url if bouncer else None,
            **({"DATABASE_TRANSACTION_POOLING": "1"} if bouncer else {}),
        )
        workers = [start_worker(env, workdir, f"{name}-{n}") for n in range(2)]
        log(
            f"{name}: {people} people, {seats} seats, {instances} gunicorn instances x "
            f"{settings['scale_gunicorn_workers']} workers, 2 mail workers"
            + (", through PgBouncer (transaction pooling)" if bouncer else "")
        )
        raw = load.drive(
            workdir,
            name,
            "CrowdRegistrant",
            [app.url for app in apps],
            users=people,
            crowd=True,
            slug=slug,
            spawn_rate=people,
            timeout=1800,
            # Everyone presses at once: the last in the queue waits for all the others (10,000 at
            # 40 a second is over four minutes). A person on a slow page waits too; a timeout here
            # would count the queue's length, not a failure of the service.
            request_timeout=900,
        )
        result["crowd_ready"] = raw.get("crowd_ready")
        result["crowd_done"] = raw.get("crowd_done")
        posts = load.summarise(raw, "register", since=raw["released"] - 1, until=raw["stopped"] + 1)
        posts["seconds"] = round(raw["finished"] - raw["released"], 2)
        posts["rps"] = round(posts["ok"] / posts["seconds"], 1) if posts["seconds"] else None
        forms = load.summarise(raw, "form", since=raw["started"], until=raw["stopped"] + 1)
        result["register"] = posts
        result["form"] = {key: forms[key] for key in ("requests", "errors", "status", "5xx", "p95_ms")}
        drained, waited = wait_drained(env, slug, settings["drain_limit_seconds"])
        result["mail_drained"] = drained
        result["mail_drain_seconds"] = round(waited, 1)
        for process in workers:
            stop(process)
        workers = []
        details = seed(["stats", "--slug", slug, "--details"], env)
        result["registrations"] = details["registrations"]
        result["seats_taken"] = details["seats_taken"]
        result["invites"] = check_invites(details, sink.lines())
        invites = result["invites"]
        all_5xx = posts["5xx"] + forms["5xx"]
        result["5xx"] = all_5xx
        result["passed"] = bool(
            details["registrations"].get("confirmed", 0) == seats
            and details["registrations"].get("waitlisted", 0) == people - seats
            and invites["confirmed_with_one_invite"] == seats
            and invites["waitlisted_with_invite"] == 0
            and all_5xx == 0
            and posts["ok"] == people
        )
        log(f"{name}: {result['registrations']}, invites {invites}, 5xx {all_5xx}, passed {result['passed']}")
    finally:
        for process in workers:
            stop(process)
        for app in apps:
            app.stop()
        sink.stop()
        if bouncer is not None:
            bouncer.stop()
        database.drop()
    return result
