"""Part 4: fault runs, each on a PostgreSQL schema of its own.

- smtp_restart: the SMTP server is killed mid-delivery and started again a few seconds later.
- worker_sigkill: an outbox worker is killed with SIGKILL mid-batch; another worker carries on.
- postgres_restart: PostgreSQL is restarted while people register through two gunicorn instances.

Afterwards every confirmed registration must have its invitation (duplicates are counted and
reported: delivery is at-least-once), no accepted registration may be missing, and no 5xx may fall
outside the restart window.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from . import load
from .common import Database, Gunicorn, app_env, free_port, log, migrate, seed, stop
from .mail import Sink, check_invites, start_worker, wait_drained
from .scale import start_instances

RESTART_COMMAND = os.environ.get(
    "BENCH_PG_RESTART", "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
)
# 5xx answered up to this long after PostgreSQL is back still count as inside the restart window.
RESTART_GRACE_SECONDS = 2.0


def _mid_batch(count: int, batch: int = 50) -> int:
    """About 30 % of ``count``, in the middle of a worker's batch (WORKER_BATCH_SIZE, 50)."""
    return (count * 3 // 10) // batch * batch + batch // 2


def _wait_count(sink: Sink, target: int, limit: float) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        count = sink.count()
        if count >= target:
            return count
        time.sleep(0.05)
    return sink.count()


def _mail_fault(
    workdir: Path, settings: dict[str, Any], name: str, **extra_env: Any
) -> tuple[Database, Sink, dict[str, str], str]:
    database = Database.postgresql(name)
    sink = Sink(workdir, name, free_port())
    env = app_env(
        database,
        workdir / f"instance-{name}",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        MAIL_TIMEOUT=10,
        WORKER_POLL_SECONDS="0.5",
        **extra_env,
    )
    migrate(env)
    slug = seed(
        ["invites", "--count", str(settings["fault_invites"]), "--title", f"Webinar: fault {name}"], env
    )["event_slug"]
    return database, sink, env, slug


def smtp_restart(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    count = settings["fault_invites"]
    down = settings["smtp_down_seconds"]
    database, sink, env, slug = _mail_fault(workdir, settings, "fault_smtp")
    result: dict[str, Any] = {
        "invites": count,
        "smtp_down_seconds": down,
        "retry_delays": "10,30,60,300,900 (the default)",
    }
    worker = None
    try:
        sink.start()
        worker = start_worker(env, workdir, "fault-smtp")
        seen = _wait_count(sink, _mid_batch(count), 120)
        sink.stop(signal.SIGKILL)
        result["delivered_before_stop"] = seen
        log(f"fault smtp: SMTP server killed after {seen} messages; down for {down} s")
        time.sleep(down)
        sink.start()
        drained, waited = wait_drained(env, slug, settings["drain_limit_seconds"])
        result["mail_drained"] = drained
        result["recovery_seconds_after_restart"] = round(waited, 1)
        stop(worker)
        worker = None
        details = seed(["stats", "--slug", slug, "--details"], env)
        result["invites_check"] = check_invites(details, sink.lines())
        check = result["invites_check"]
        result["passed"] = drained and check["confirmed_without_invite"] == 0
        log(f"fault smtp: {check}, passed {result['passed']}")
    finally:
        if worker is not None:
            stop(worker)
        sink.stop()
        database.drop()
    return result


def worker_sigkill(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    count = settings["fault_invites"]
    lease = settings["fault_lease_seconds"]
    database, sink, env, slug = _mail_fault(workdir, settings, "fault_kill", WORKER_LEASE_SECONDS=lease)
    result: dict[str, Any] = {"invites": count, "lease_seconds": lease}
    workers: list[subprocess.Popen[Any]] = []
    try:
        sink.start()
        first = start_worker(env, workdir, "fault-kill-a")
        workers.append(first)
        seen = _wait_count(sink, _mid_batch(count), 120)
        stop(first, signal.SIGKILL)
        killed_at = time.time()
        workers.remove(first)
        details = seed(["stats", "--slug", slug, "--details"], env)
        stranded = {mid for mid, (_, _, status, _) in details["messages"].items() if status == "sending"}
        result["delivered_before_kill"] = seen
        result["claimed_by_killed_worker"] = len(stranded)
        log(f"fault kill: worker SIGKILLed after {seen} messages, {len(stranded)} claimed and not finished")
        workers.append(start_worker(env, workdir, "fault-kill-b"))
        drained, waited = wait_drained(env, slug, settings["drain_limit_seconds"] + lease)
        result["mail_drained"] = drained
        result["drain_seconds_after_kill"] = round(waited, 1)
        lines = sink.lines()
        picked_up = [float(line[0]) for line in lines if line[2] in stranded and float(line[0]) > killed_at]
        result["claimed_messages_delivered_after_seconds"] = (
            round(min(picked_up) - killed_at, 1) if picked_up else None
        )
        for process in workers:
            stop(process)
        workers = []
        details = seed(["stats", "--slug", slug, "--details"], env)
        result["invites_check"] = check_invites(details, lines)
        check = result["invites_check"]
        result["passed"] = drained and check["confirmed_without_invite"] == 0
        log(f"fault kill: {check}, passed {result['passed']}")
    finally:
        for process in workers:
            stop(process)
        sink.stop()
        database.drop()
    return result


def _restart_postgres() -> dict[str, Any]:
    started = time.time()
    try:
        completed = subprocess.run(shlex.split(RESTART_COMMAND), capture_output=True, text=True, timeout=120)
        ok, output = completed.returncode == 0, (completed.stdout + completed.stderr)[-500:]
    except (OSError, subprocess.TimeoutExpired) as error:
        ok, output = False, str(error)
    return {"command": RESTART_COMMAND, "ok": ok, "output": output, "started": started, "ended": time.time()}


def postgres_restart(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    seats = settings["fault_pg_seats"]
    database = Database.postgresql("fault_pg")
    sink = Sink(workdir, "fault_pg", free_port())
    result: dict[str, Any] = {
        "seats": seats,
        "users": settings["users"],
        "lease_seconds": settings["fault_lease_seconds"],
    }
    apps: list[Gunicorn] = []
    workers: list[subprocess.Popen[Any]] = []
    try:
        # The worker's batch in flight when the database goes away stays claimed until its lease
        # ends (300 s by default): a short lease lets the run see it delivered.
        env, slug = start_instances(
            database,
            sink,
            workdir,
            "fault-pg",
            seats=seats,
            title="Webinar: fault postgres",
            gunicorn_workers=settings["scale_gunicorn_workers"],
            apps=apps,
            WORKER_LEASE_SECONDS=settings["fault_lease_seconds"],
        )
        workers.append(start_worker(env, workdir, "fault-pg"))
        box: dict[str, Any] = {}

        def drive() -> None:
            box["raw"] = load.drive(
                workdir,
                "fault-pg",
                "Registrant",
                [app.url for app in apps],
                users=settings["users"],
                warmup=0,
                duration=settings["fault_pg_duration"],
                slug=slug,
            )

        thread = threading.Thread(target=drive)
        thread.start()
        time.sleep(settings["fault_pg_restart_after"])
        log(f"fault postgres: {RESTART_COMMAND}")
        restart = _restart_postgres()
        result["restart"] = {k: v for k, v in restart.items() if k not in ("started", "ended")}
        result["restart"]["seconds"] = round(restart["ended"] - restart["started"], 2)
        thread.join()
        raw = box["raw"]
        window = (restart["started"], restart["ended"] + RESTART_GRACE_SECONDS)
        result["window_seconds"] = round(window[1] - window[0], 2)
        rows = [r for r in raw["requests"] if r[2] in ("register", "form")]
        inside = [r for r in rows if window[0] <= r[0] + r[1] / 1000 <= window[1]]
        outside = [r for r in rows if not (window[0] <= r[0] + r[1] / 1000 <= window[1])]
        result["requests"] = len(rows)
        result["5xx_inside_window"] = sum(1 for r in inside if 500 <= r[3] < 600)
        result["5xx_outside_window"] = sum(1 for r in outside if 500 <= r[3] < 600)
        result["other_errors"] = sum(1 for r in rows if r[4] and not 500 <= r[3] < 600)
        result["register"] = load.summarise(raw, "register")
        accepted = {r[5] for r in rows if r[2] == "register" and r[3] == 302}
        failed = {r[5] for r in rows if r[2] == "register" and 500 <= r[3] < 600}
        stuck = seed(["stats", "--slug", slug], env)["outbox"]
        result["claimed_after_load"] = sum(n for key, n in stuck.items() if key.endswith("/sending"))
        drained, waited = wait_drained(env, slug, settings["drain_limit_seconds"])
        result["mail_drained"] = drained
        result["mail_drain_seconds"] = round(waited, 1)
        for process in workers:
            stop(process)
        workers = []
        details = seed(["stats", "--slug", slug, "--details"], env)
        stored = set(details["people"])
        result["registrations"] = details["registrations"]
        result["accepted"] = len(accepted)
        result["accepted_missing"] = len(accepted - stored)
        result["failed_but_stored"] = len(failed & stored)
        result["invites_check"] = check_invites(details, sink.lines())
        check = result["invites_check"]
        result["passed"] = bool(
            restart["ok"]
            and drained
            and result["accepted_missing"] == 0
            and result["5xx_outside_window"] == 0
            and check["confirmed_without_invite"] == 0
        )
        log(
            f"fault postgres: {result['registrations']}, 5xx inside {result['5xx_inside_window']}, "
            f"outside {result['5xx_outside_window']}, lost {result['accepted_missing']}, passed "
            f"{result['passed']}"
        )
    finally:
        for process in workers:
            stop(process)
        for app in apps:
            app.stop()
        sink.stop()
        database.drop()
    return result


def run(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, function in (
        ("smtp_restart", smtp_restart),
        ("worker_sigkill", worker_sigkill),
        ("postgres_restart", postgres_restart),
    ):
        log(f"fault run: {name}")
        try:
            results[name] = function(workdir, settings)
        except Exception as error:  # one broken run must not hide the others
            log(f"fault run {name} failed: {error}")
            results[name] = {"error": str(error)[-2000:], "passed": False}
    return results
