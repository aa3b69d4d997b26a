"""Part 6: where the time goes. pyinstrument over the registration POST (and the series feed), in
process through Flask's test client, on the benchmark's database (PostgreSQL)::

    DATABASE_URL=... python -m benchmarks.profiling --slug <webinar> --series <series> --out profile.json

Records the SQL statements one registration runs, pyinstrument's call tree, and the own time by
function and by package; also the outbox worker delivering batches to a transport that sends nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from typing import Any

from pyinstrument import Profiler
from sqlalchemy import event as sa_event

from webinars import create_app
from webinars.extensions import db

from .common import ROOT

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _package(path: str) -> str:
    """ "sqlalchemy/orm/session.py" -> "sqlalchemy"; the app's own code and templates keep their folder."""
    path = path or "?"
    if path.startswith(("webinars/", "templates/")):
        return "/".join(path.split("/")[:2])
    return path.split("/")[0].removesuffix(".py")


def _own_times(profiler: Profiler) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Own (self) time by function and by package, and inclusive time of the app's own functions
    (webinars/, templates/), in seconds. Time pyinstrument books to a "[self]" or built-in frame
    (C code: socket reads, hashing...) is given to the Python function that called it."""
    by_function: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    app_inclusive: Counter[str] = Counter()
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()

    def walk(frame: Any, caller: Any, open_app: frozenset[str]) -> None:
        own = frame.time - sum(child.time for child in frame.children)
        python = frame
        path = frame.file_path_short or ""
        if frame.function == "[self]" or not path or path == "<built-in>":
            python = caller or frame
        where = f"{python.function} ({python.file_path_short}:{python.line_no})"
        by_function[where] += own
        by_package[_package(python.file_path_short)] += own
        if python is frame and path.startswith(("webinars/", "templates/")):
            key = f"{frame.function} ({path})"
            if key not in open_app:  # recursion: count the outermost call only
                app_inclusive[key] += frame.time
                open_app = open_app | {key}
        for child in frame.children:
            walk(child, python, open_app)

    if root is not None:
        walk(root, None, frozenset())
    return by_function, by_package, app_inclusive


def _profile(run: Any, count: int) -> dict[str, Any]:
    profiler = Profiler(interval=0.001)
    started = time.perf_counter()
    profiler.start()
    for n in range(count):
        run(n)
    profiler.stop()
    elapsed = time.perf_counter() - started
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    by_function, by_package, app_inclusive = _own_times(profiler)
    total = sum(by_package.values()) or 1.0
    return {
        "count": count,
        "ms_each": round(1000 * elapsed / count, 2),
        "tree": _trim(text.replace(str(ROOT) + "/", "")),  # paths relative to the project
        "own_time": [(name, round(seconds, 3)) for name, seconds in by_function.most_common(25)],
        "by_package": [
            (name, round(100 * seconds / total, 1)) for name, seconds in by_package.most_common(12)
        ],
        "app_functions": [
            (name, round(100 * seconds / total, 1)) for name, seconds in app_inclusive.most_common(14)
        ],
    }


class NullTransport:
    """Accepts every message (serialised, as smtplib would) and sends nothing."""

    def __enter__(self) -> NullTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: Any) -> None:
        message.as_bytes()


def _trim(text: str, max_lines: int = 70) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:max_lines])


def _time_registrations(register: Any, count: int) -> dict[str, Any]:
    """Registrations without the profiler: wall and CPU time each, and how long the webinar's row
    stays locked: from the seat UPDATE (registrations.service.take_seat) to the next commit."""
    from sqlalchemy.orm import Session

    from webinars.registrations import service

    take_seat = getattr(service, "take_seat", None)
    seat_taken_at: list[float] = []
    held: list[float] = []

    def timed_take_seat(*args: Any, **kwargs: Any) -> Any:
        seat_taken_at.append(time.perf_counter())
        return take_seat(*args, **kwargs)  # type: ignore[misc]

    def after_commit(session: Any) -> None:
        if seat_taken_at:
            held.append(time.perf_counter() - seat_taken_at[0])
            seat_taken_at.clear()

    if take_seat is not None:
        service.take_seat = timed_take_seat
        sa_event.listen(Session, "after_commit", after_commit)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for n in range(count):
            register(n)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        if take_seat is not None:
            service.take_seat = take_seat
            sa_event.remove(Session, "after_commit", after_commit)
    held.sort()
    return {
        "count": count,
        "wall_ms": round(1000 * wall / count, 2),
        "cpu_ms": round(1000 * cpu / count, 2),
        "seat_lock_ms": round(1000 * sum(held) / len(held), 2) if held else None,
        "seat_lock_p50_ms": round(1000 * held[len(held) // 2], 2) if held else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling")
    parser.add_argument("--slug", required=True)
    parser.add_argument("--series", default="")
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--mail-batches", type=int, default=10, help="worker batches, to a null transport")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    app = create_app()
    client = app.test_client()
    statements: list[str] = []
    commits: list[int] = []
    with app.app_context():
        sa_event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        sa_event.listen(db.engine, "commit", lambda *a: commits.append(1))
    url = f"/webinars/{args.slug}"
    page = client.get(url, base_url="https://localhost").get_data(as_text=True)
    match = CSRF.search(page)
    assert match, "no CSRF token on the webinar page"
    token = match.group(1)

    def register(n: int) -> None:
        response = client.post(
            url,
            base_url="https://localhost",
            headers={"Referer": f"https://localhost{url}"},
            data={
                "csrf_token": token,
                "name": f"Profiled Visitor {n}",
                "email": f"profile-{time.time_ns()}-{n}@example.org",
                "organisation": "Benchmark Lab",
                "consent": "y",
                "website": "",
                "timezone": "Europe/Madrid",
            },
        )
        assert response.status_code == 302, response.status_code

    for n in range(20):  # warm up: imports, template compilation, connection pool
        register(n)
    statements.clear()
    commits.clear()
    register(0)
    per_registration = [" ".join(s.split())[:160] for s in statements]
    result: dict[str, Any] = {
        "sql_per_registration": per_registration,
        "commits_per_registration": len(commits),
    }
    result["registration_timing"] = _time_registrations(register, args.registrations)
    result["registration"] = _profile(register, args.registrations)

    if args.series:
        feed_url = f"/series/{args.series}/calendar.ics"
        if client.get(feed_url).status_code == 200:
            statements.clear()
            client.get(feed_url)
            result["sql_per_feed"] = len(statements)
            result["feed"] = _profile(lambda n: client.get(feed_url), args.feeds)

    if args.mail_batches:
        from webinars.mail import worker

        with app.app_context():
            handled: list[int] = []
            statements.clear()
            commits.clear()
            result["mail"] = _profile(
                lambda n: handled.append(worker.deliver_batch(NullTransport)), args.mail_batches
            )
            messages = sum(handled)
            result["mail"]["messages"] = messages
            if messages:
                result["mail"]["ms_per_message"] = round(
                    result["mail"]["ms_each"] * args.mail_batches / messages, 2
                )
                result["mail"]["sql_per_message"] = round(len(statements) / messages, 2)
                result["mail"]["commits_per_message"] = round(len(commits) / messages, 2)
    with open(args.out, "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
