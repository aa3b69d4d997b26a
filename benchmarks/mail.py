"""Part 2: mail throughput. The same queued invitations delivered by 1 and by 4 outbox workers to an
aiosmtpd server on loopback, beside raw smtplib sending the same messages, prebuilt, over one connection.
"""

from __future__ import annotations

import os
import pickle
import signal
import smtplib
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import (
    BIN,
    PYTHON,
    ROOT,
    Database,
    app_env,
    free_port,
    log,
    migrate,
    read_lines,
    seed,
    spawn,
    stop,
)

# The kinds of message that carry the invitation (webinars.mail.notifications.INVITE_KINDS).
INVITE_KINDS = {"registration_confirmed", "promoted", "event_updated", "invite_resent"}


class Sink:
    """benchmarks/sink.py in a subprocess, logging to ``log_path``."""

    def __init__(self, workdir: Path, name: str, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = workdir / f"sink-{name}.log"
        self.log_path.unlink(missing_ok=True)
        self.process = None

    def start(self) -> Sink:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = spawn(
            [PYTHON, "-m", "benchmarks.sink", "--port", str(self.port), "--log", str(self.log_path)],
            env,
            self.workdir / "sink.out",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop(self.process, sig)
            self.process = None

    def lines(self) -> list[list[str]]:
        return list(read_lines(self.log_path))

    def count(self) -> int:
        if not self.log_path.exists():
            return 0
        with open(self.log_path, "rb") as handle:
            return sum(1 for _ in handle)


def start_worker(env: dict[str, str], workdir: Path, name: str) -> subprocess.Popen[Any]:
    """A long-running outbox worker (``flask --app webinars worker``)."""
    return spawn([str(BIN / "flask"), "--app", "webinars", "worker"], env, workdir / f"worker-{name}.log")


def wait_drained(env: dict[str, str], slug: str, limit: float) -> tuple[bool, float]:
    """Wait until no message of the webinar is queued or being sent. Returns (drained, seconds)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if seed(["stats", "--slug", slug], env)["outbox_pending"] == 0:
            return True, time.monotonic() - started
        time.sleep(1)
    return False, time.monotonic() - started


def check_invites(details: dict[str, Any], lines: list[list[str]]) -> dict[str, Any]:
    """What the SMTP server received, against the registrations and the outbox of one webinar."""
    people: dict[str, list[Any]] = details["people"]
    messages: dict[str, list[Any]] = details["messages"]
    received = Counter(line[2] for line in lines)
    invites: Counter[int] = Counter()
    for message_id, times in received.items():
        message = messages.get(message_id)
        if message and message[1] in INVITE_KINDS:
            invites[message[0]] += times
    confirmed = [rid for rid, status in people.values() if status == "confirmed"]
    waitlisted = [rid for rid, status in people.values() if status == "waitlisted"]
    statuses = Counter(status for _, _, status, _ in messages.values())
    return {
        "confirmed": len(confirmed),
        "waitlisted": len(waitlisted),
        "confirmed_with_one_invite": sum(1 for rid in confirmed if invites[rid] == 1),
        "confirmed_without_invite": sum(1 for rid in confirmed if invites[rid] == 0),
        "confirmed_with_several_invites": sum(1 for rid in confirmed if invites[rid] > 1),
        "waitlisted_with_invite": sum(1 for rid in waitlisted if invites[rid] > 0),
        "messages_received": sum(received.values()),
        "duplicate_deliveries": sum(times - 1 for times in received.values() if times > 1),
        "unknown_messages": sum(
            times for message_id, times in received.items() if message_id not in messages
        ),
        "outbox": dict(statuses),
    }


def delivery_summary(lines: list[list[str]], expected: int, wall: float) -> dict[str, Any]:
    times = sorted(float(line[0]) for line in lines)
    ids = Counter(line[2] for line in lines)
    window = (times[-1] - times[0]) if len(times) > 1 else None
    return {
        "expected": expected,
        "delivered": len(lines),
        "unique": len(ids),
        "duplicates": sum(count - 1 for count in ids.values() if count > 1),
        "wall_seconds": round(wall, 2),
        "window_seconds": round(window, 2) if window else None,
        "per_second": round(len(lines) / window, 1) if window else None,
        "per_second_wall": round(len(lines) / wall, 1) if wall else None,
    }


def run_workers(
    env: dict[str, str], workdir: Path, count: int, sink: Sink, expected: int, limit: float
) -> dict[str, Any]:
    started = time.time()
    processes = [
        spawn(
            [str(BIN / "flask"), "--app", "webinars", "worker", "--once"],
            env,
            workdir / f"worker-{count}-{n}.log",
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + limit
    timed_out = False
    for process in processes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except Exception:
            timed_out = True
        stop(process)
    wall = time.time() - started
    summary = delivery_summary(sink.lines(), expected, wall)
    summary["workers"] = count
    summary["timed_out"] = timed_out
    return summary


def raw_smtplib(messages: list[tuple[str, str, bytes]], sink: Sink) -> dict[str, Any]:
    started = time.time()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as connection:
        for sender, recipient, body in messages:
            connection.sendmail(sender, [recipient], body)
    wall = time.time() - started
    time.sleep(0.5)
    return delivery_summary(sink.lines(), len(messages), wall)


def run(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    count = settings["invites"]
    limit = settings["mail_limit_seconds"]
    database = Database.postgresql("mail")
    result: dict[str, Any] = {"database": "postgresql", "invites": count}
    try:
        sink_port = free_port()
        env = app_env(
            database,
            workdir / "instance-mail",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=sink_port,
            MAIL_TIMEOUT=30,
        )
        migrate(env)
        log(f"mail: queueing {count} invitations")
        seeded = seed(["invites", "--count", str(count)], env)
        result["seed_seconds"] = seeded["seconds"]
        mime_path = workdir / "messages.pickle"
        dumped = seed(["dump-mime", "--out", str(mime_path)], env)
        result["message_bytes_mean"] = round(dumped["bytes"] / max(dumped["messages"], 1))

        for workers in (1, 4):
            if workers != 1:
                seed(["reset-outbox"], env)
            sink = Sink(workdir, f"mail-{workers}", sink_port).start()
            try:
                log(f"mail: {workers} worker(s) delivering {count} messages")
                summary = run_workers(env, workdir, workers, sink, count, limit)
            finally:
                sink.stop()
            result[f"workers_{workers}"] = summary
            log(f"mail: {workers} worker(s): {summary}")

        with open(mime_path, "rb") as handle:
            messages = pickle.load(handle)
        sink = Sink(workdir, "mail-raw", sink_port).start()
        try:
            log(f"mail: raw smtplib sending {len(messages)} prebuilt messages over one connection")
            result["raw_smtplib"] = raw_smtplib(messages, sink)
        finally:
            sink.stop()
        log(f"mail: raw smtplib: {result['raw_smtplib']}")
        mime_path.unlink(missing_ok=True)
        raw_rate = result["raw_smtplib"]["per_second"]
        for workers in (1, 4):
            rate = result[f"workers_{workers}"]["per_second"]
            result[f"workers_{workers}"]["ratio_to_raw"] = (
                round(rate / raw_rate, 2) if rate and raw_rate else None
            )
    finally:
        database.drop()
    result["drain"] = confirmations_during_drain(workdir, settings)
    return result


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def confirmations_during_drain(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Part 2b: sign-ups for one webinar while ``drain_reminders`` reminders for another drain.

    One long-running worker (``flask worker``); the reminders are queued first, then sign-ups arrive
    open loop at ``drain_signup_rate`` per second. Latency: from the sign-up's commit to the SMTP
    server accepting its confirmation (the sink's log). The reminders' rate over the same run.
    """
    reminders = settings["drain_reminders"]
    database = Database.postgresql("drain")
    result: dict[str, Any] = {"database": "postgresql", "reminders": reminders, "workers": 1}
    worker = None
    try:
        sink_port = free_port()
        env = app_env(
            database,
            workdir / "instance-drain",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=sink_port,
            MAIL_TIMEOUT=30,
            WORKER_POLL_SECONDS=0.2,
        )
        migrate(env)
        log(f"mail: queueing {reminders} reminders")
        seed(["invites", "--count", str(reminders), "--kind", "reminder", "--prefix", "reminded"], env)
        launch = seed(["event", "--capacity", "100000", "--title", "Webinar #19: Launch day"], env)
        sink = Sink(workdir, "drain", sink_port).start()
        try:
            worker = start_worker(env, workdir, "drain")
            time.sleep(settings["drain_head_start"])  # the bulk send is under way when visitors come
            signups = seed(
                [
                    "signups",
                    "--slug",
                    launch["event_slug"],
                    "--count",
                    str(settings["drain_signups"]),
                    "--rate",
                    str(settings["drain_signup_rate"]),
                ],
                env,
            )["signups"]
            deadline = time.monotonic() + settings["mail_limit_seconds"]
            while sink.count() < reminders + len(signups) and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            if worker is not None:
                stop(worker)
            sink.stop()
        lines = sink.lines()
        accepted = {line[2]: float(line[0]) for line in lines}
        latencies = [accepted[mid] - at for mid, at in signups if mid in accepted]
        reminder_times = sorted(float(line[0]) for line in lines if line[1].startswith("reminded"))
        during = [
            t for t in reminder_times if signups and signups[0][1] <= t <= max(accepted.values(), default=0)
        ]
        window = (reminder_times[-1] - reminder_times[0]) if len(reminder_times) > 1 else None
        result.update(
            signups=len(signups),
            confirmations_delivered=len(latencies),
            latency_p50_s=_round(_percentile(latencies, 0.5)),
            latency_p95_s=_round(_percentile(latencies, 0.95)),
            latency_max_s=_round(max(latencies, default=None)),
            reminders_delivered=len(reminder_times),
            reminders_per_second=round(len(reminder_times) / window, 1) if window else None,
            reminders_sent_while_signing_up=len(during),
            reminders_left_when_signups_ended=reminders
            - sum(1 for t in reminder_times if signups and t <= signups[-1][1]),
        )
        log(f"mail: confirmations while reminders drain: {result}")
    finally:
        database.drop()
    return result


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
