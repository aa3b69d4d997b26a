"""Part 5: launch day. A newsletter went out: visitors arrive at a fixed rate (open loop: an arrival is
sent at its moment whether or not earlier ones were answered, so a slow server meets a growing queue
instead of a politely waiting crowd), read the webinar's page, and some sign up; meanwhile the worker
sends 10,000 reminders for another webinar starting within the hour (its reminder pass queues them
on its first loop).

Measured: page and sign-up latency from each arrival's scheduled moment (p50/p95/p99), confirmation
latency (sign-up answered -> the SMTP server accepted the confirmation, from the sink's log), the
reminders' throughput (under MAIL_MAX_PER_SECOND when the app knows that setting), and the CPU of
the web processes per request.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import load
from .common import ROOT, Database, Gunicorn, app_env, free_port, log, migrate, percentile, seed, stop
from .mail import Sink, start_worker, wait_drained

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _summary(latencies: list[float], errors: int, fivexx: int, seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies) + errors,
        "ok": len(latencies),
        "errors": errors,
        "5xx": fivexx,
        "rps": round(len(latencies) / seconds, 1) if seconds else None,
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "p99_ms": _ms(percentile(latencies, 99)),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(1000 * value, 1)


class OpenLoop:
    """Arrivals at fixed moments, each run by a thread of a large pool."""

    def __init__(self, url: str, slug: str, threads: int = 256) -> None:
        import requests

        self.requests = requests
        self.url = url
        self.slug = slug
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.lock = threading.Lock()
        self.pages: list[float] = []
        self.signups: list[float] = []
        self.answered: dict[str, float] = {}
        self.page_errors = self.signup_errors = self.fivexx = 0
        self.late = 0

    def _page(self, scheduled: float) -> None:
        try:
            answer = self.requests.get(f"{self.url}/webinars/{self.slug}", timeout=60)
            ok = answer.status_code == 200
        except Exception:
            answer, ok = None, False
        with self.lock:
            if ok:
                self.pages.append(time.time() - scheduled)
            else:
                self.page_errors += 1
                self.fivexx += int(answer is not None and answer.status_code >= 500)

    def _signup(self, scheduled: float, n: int) -> None:
        email = f"launch{n}@bench.example.org"
        answer = None
        try:
            page = self.requests.get(f"{self.url}/webinars/{self.slug}", timeout=60)
            token = TOKEN.search(page.text)
            # Production cookies are Secure, and requests drops them on the loopback http that stands in
            # for the TLS proxy: the session cookie goes back by hand, as a browser on https sends it.
            cookie = page.headers.get("Set-Cookie", "").split(";", 1)[0]
            form = {"csrf_token": token.group(1) if token else "", "name": f"Visitor {n}", "email": email}
            answer = self.requests.post(
                f"{self.url}/webinars/{self.slug}",
                data={**form, "consent": "y"},
                headers={"Cookie": cookie},
                timeout=60,
                allow_redirects=False,
            )
            ok = answer.status_code == 302
        except Exception:
            ok = False
        done = time.time()
        with self.lock:
            if ok:
                self.signups.append(done - scheduled)
                self.answered[email] = done
            else:
                self.signup_errors += 1
                self.fivexx += int(answer is not None and answer.status_code >= 500)

    def run(self, seconds: float, page_rate: float, signup_rate: float) -> tuple[float, float]:
        """Schedule every arrival of ``seconds``; returns (start, end of the last answer)."""
        start = time.time() + 0.5
        arrivals = [(start + i / page_rate, "page", i) for i in range(int(seconds * page_rate))]
        arrivals += [(start + i / signup_rate, "signup", i) for i in range(int(seconds * signup_rate))]
        arrivals.sort()
        for moment, kind, n in arrivals:
            delay = moment - time.time()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.05:
                self.late += 1  # the generator itself fell behind: reported, not hidden
            if kind == "page":
                self.pool.submit(self._page, moment)
            else:
                self.pool.submit(self._signup, moment, n)
        self.pool.shutdown(wait=True)
        return start, time.time()


def _app_knows(setting: str) -> bool:
    return setting in (ROOT / "config.py").read_text()


def run(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    database = Database.postgresql("launch")
    sink = Sink(workdir, "launch", free_port())
    rate_setting = "MAIL_MAX_PER_SECOND"
    result: dict[str, Any] = {
        "seconds": settings["launch_seconds"],
        "page_rate": settings["launch_page_rate"],
        "signup_rate": settings["launch_signup_rate"],
        "reminders": settings["launch_reminders"],
        "mail_rate_cap": settings["launch_mail_rate"],
        "mail_rate_cap_known": _app_knows(rate_setting),
        "gunicorn_workers": settings["workers"],
        "mail_workers": 2,
    }
    app: Gunicorn | None = None
    workers = []
    try:
        env = app_env(
            database,
            workdir / "instance-launch",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=sink.port,
            WORKER_POLL_SECONDS="0.5",
            **{rate_setting: settings["launch_mail_rate"]},
        )
        migrate(env)
        slug = seed(["event", "--capacity", "100000", "--title", "Webinar #16: Launch day"], env)[
            "event_slug"
        ]
        reminded = seed(["reminders", "--count", str(settings["launch_reminders"])], env)["event_slug"]
        sink.start()
        app = Gunicorn("webinars:create_app()", env, settings["workers"], workdir / "gunicorn-launch.log")
        app.start()
        workers = [start_worker(env, workdir, f"launch-{n}") for n in range(2)]
        log(
            f"launch: {result['page_rate']} page views/s and {result['signup_rate']} sign-ups/s for "
            f"{result['seconds']} s while {result['reminders']} reminders drain"
        )
        loop = OpenLoop(app.url, slug)
        snapshot, cpu_started = load.processes(), time.monotonic()
        started, ended = loop.run(
            settings["launch_seconds"], settings["launch_page_rate"], settings["launch_signup_rate"]
        )
        after = load.processes()
        result["machine_cpu"] = load.cpu_shares(snapshot, after, time.monotonic() - cpu_started)
        result["web_cpu_ms_per_request"] = _web_cpu_ms(
            app, snapshot, after, len(loop.pages) + 2 * len(loop.signups)
        )
        span = ended - started
        result["page"] = _summary(loop.pages, loop.page_errors, 0, span)
        result["signup"] = _summary(loop.signups, loop.signup_errors, 0, span)
        result["5xx"] = loop.fivexx
        result["late_arrivals"] = loop.late
        drained, waited = wait_drained(env, slug, settings["drain_limit_seconds"])
        result["confirmations_drained"] = drained
        accepted: dict[str, float] = {}
        reminder_times: list[float] = []
        for stamp, recipient, *_ in sink.lines():
            if recipient.startswith("launch") and recipient not in accepted:
                accepted[recipient] = float(stamp)
            elif recipient.startswith("reminded"):
                reminder_times.append(float(stamp))
        delays = [accepted[email] - done for email, done in loop.answered.items() if email in accepted]
        result["confirmation"] = {
            "delivered": len(delays),
            "of": len(loop.answered),
            "p50_ms": _ms(percentile(delays, 50)),
            "p95_ms": _ms(percentile(delays, 95)),
            "p99_ms": _ms(percentile(delays, 99)),
        }
        during = [moment for moment in reminder_times if started <= moment <= ended]
        result["reminders_sent_during_load"] = len(during)
        result["reminders_per_second_during_load"] = round(len(during) / span, 1) if span else None
        drained_reminders, reminder_wait = wait_drained(env, reminded, settings["drain_limit_seconds"])
        reminder_times = sorted(float(line[0]) for line in sink.lines() if line[1].startswith("reminded"))
        result["reminders_delivered"] = len(reminder_times)
        result["reminders_drained"] = drained_reminders
        if len(reminder_times) > 1:
            result["reminders_per_second"] = round(
                len(reminder_times) / (reminder_times[-1] - reminder_times[0]), 1
            )
        log(
            f"launch: page p95 {result['page']['p95_ms']} ms, sign-up p95 {result['signup']['p95_ms']} ms, "
            f"confirmation p95 {result['confirmation']['p95_ms']} ms, reminders "
            f"{result.get('reminders_per_second')} /s, 5xx {loop.fivexx}"
        )
    finally:
        for process in workers:
            stop(process)
        if app is not None:
            app.stop()
        sink.stop()
        database.drop()
    return result


def _web_cpu_ms(
    app: Gunicorn,
    before: dict[int, tuple[int, int, str]],
    after: dict[int, tuple[int, int, str]],
    requests: int,
) -> float | None:
    """CPU of the gunicorn master and its workers, per HTTP request of the phase."""
    if app.process is None or not requests:
        return None
    ours = {app.process.pid}
    for pid, (_, parent, _) in after.items():
        if parent in ours:
            ours.add(pid)
    import os

    ticks = sum(after[pid][0] - before.get(pid, (0, 0, ""))[0] for pid in ours if pid in after)
    return round(1000 * ticks / os.sysconf("SC_CLK_TCK") / requests, 2)
