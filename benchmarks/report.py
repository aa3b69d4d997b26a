"""Targets, and the Markdown report (docs/benchmarks.md) made from a results JSON.

python -m benchmarks.report bench-results/<timestamp>.json   # rewrite docs/benchmarks.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .common import ROOT

DOC = ROOT / "docs" / "benchmarks.md"
P95_LIMIT_MS = 250.0
CONFIRMED_PER_SECOND = 300.0
# Issue 14's targets, each against a baseline of the same run.
INSERT_RATIO = {"postgresql": 0.45, "sqlite": 0.3}
PAGE_RATIO = 0.5
CONFIRMATION_P95_MS = 5000.0

# Each measure of the app beside its baseline: (phase, what it is, baseline).
PAIRS = [
    ("register", "Registration POST (10,000 seats)", "insert"),
    ("page", "Public webinar page", "template"),
    ("ics", "Webinar .ics download", "template"),
    ("feed", "Series feed, 500 webinars", "template"),
]
BASELINE_NAMES = {"insert": "bare insert", "template": "one template"}


def _web(results: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for entry in results.get("web", []):
        if entry.get("database") == kind:
            return entry
    return None


def ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value and base else None


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with its figure and whether it was met."""
    targets: list[dict[str, Any]] = []
    for kind in ("postgresql", "sqlite"):
        web = _web(results, kind)
        if not web:
            continue
        register = web.get("phases", {}).get("register", {})
        insert = web.get("baselines", {}).get("insert", {})
        value = ratio(register.get("rps"), insert.get("rps"))
        targets.append(
            {
                "id": f"throughput_vs_insert_{kind}",
                "target": f"Registration throughput >= {INSERT_RATIO[kind]:g} x bare-insert baseline "
                f"({kind})",
                "value": value,
                "shown": f"{value} x ({register.get('rps')} vs {insert.get('rps')} req/s)"
                if value is not None
                else "not measured",
                "met": value is not None and value >= INSERT_RATIO[kind],
            }
        )
        page = web.get("phases", {}).get("page", {})
        template = web.get("baselines", {}).get("template", {})
        page_ratio = ratio(page.get("rps"), template.get("rps"))
        targets.append(
            {
                "id": f"page_vs_template_{kind}",
                "target": f"Public webinar page >= {PAGE_RATIO:g} x one-template baseline ({kind})",
                "value": page_ratio,
                "shown": f"{page_ratio} x ({page.get('rps')} vs {template.get('rps')} req/s)"
                if page_ratio is not None
                else "not measured",
                "met": page_ratio is not None and page_ratio >= PAGE_RATIO,
            }
        )
        if kind == "postgresql":
            confirmed = register.get("confirmed_per_second")
            targets.append(
                {
                    "id": "confirmed_per_second_postgresql",
                    "target": f">= {CONFIRMED_PER_SECOND:g} confirmed registrations/s, one webinar, "
                    f"{results['machine'].get('nproc')} cores, PostgreSQL",
                    "value": confirmed,
                    "shown": f"{confirmed} /s" if confirmed is not None else "not measured",
                    "met": confirmed is not None and confirmed >= CONFIRMED_PER_SECOND,
                }
            )
        for phase, label, _ in PAIRS:
            figures = web.get("phases", {}).get(phase, {})
            if "p95_ms" not in figures:
                continue
            p95 = figures.get("p95_ms")
            targets.append(
                {
                    "id": f"p95_{phase}_{kind}",
                    "target": f"p95 < {P95_LIMIT_MS:g} ms, {figures.get('users')} users: {label} ({kind})",
                    "value": p95,
                    "shown": f"{p95} ms",
                    "met": p95 is not None and p95 < P95_LIMIT_MS,
                }
            )
    launch = results.get("launch") or {}
    if launch.get("confirmation"):
        p95 = launch["confirmation"].get("p95_ms")
        targets.append(
            {
                "id": "confirmation_p95_launch",
                "target": f"Launch day: confirmation email p95 < {CONFIRMATION_P95_MS / 1000:g} s while "
                f"{launch.get('reminders'):,} reminders drain",
                "value": p95,
                "shown": f"{p95} ms" if p95 is not None else "not measured",
                "met": p95 is not None and p95 < CONFIRMATION_P95_MS,
            }
        )
    bouncer = results.get("pgbouncer") or {}
    if bouncer and "error" not in bouncer:
        targets.append(
            {
                "id": "pgbouncer_scale",
                "target": f"Through PgBouncer: {bouncer['people']:,} people for {bouncer['seats']:,} seats, "
                "exactly that many confirmed, one invitation each, no 5xx",
                "value": bouncer.get("passed"),
                "shown": "passed" if bouncer.get("passed") else "failed",
                "met": bool(bouncer.get("passed")),
            }
        )
    targets += _mail_targets(results.get("mail") or {})
    return targets


# Issue 14: mail throughput beside raw smtplib, and a confirmation's latency while bulk mail drains.
MAIL_RATIOS = {"workers_1": 0.25, "workers_4": 0.5}
CONFIRMATION_P95_SECONDS = 5.0


def _mail_targets(mail: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    for key, wanted in MAIL_RATIOS.items():
        row = mail.get(key)
        if not row:
            continue
        value = row.get("ratio_to_raw")
        raw = mail.get("raw_smtplib", {}).get("per_second")
        targets.append(
            {
                "id": f"mail_{key}",
                "target": f"Mail, {key.split('_')[1]} worker(s) >= {wanted:g} x raw smtplib",
                "value": value,
                "shown": f"{value} x ({row.get('per_second')} vs {raw} messages/s)"
                if value is not None
                else "not measured",
                "met": value is not None and value >= wanted,
            }
        )
    drain = mail.get("drain")
    if drain and "latency_p95_s" in drain:
        p95 = drain.get("latency_p95_s")
        targets.append(
            {
                "id": "confirmation_p95_during_drain",
                "target": f"Confirmation p95 < {CONFIRMATION_P95_SECONDS:g} s, sign-up to SMTP accepted, "
                f"while {_f(drain.get('reminders'))} reminders drain",
                "value": p95,
                "shown": f"{p95} s ({_f(drain.get('confirmations_delivered'))} of {_f(drain.get('signups'))})"
                if p95 is not None
                else "not measured",
                "met": p95 is not None and p95 < CONFIRMATION_P95_SECONDS,
            }
        )
    return targets


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "**missed**")


def _http_tables(results: dict[str, Any], lines: list[str]) -> None:
    lines += [
        "| Database | Measure | req/s | p50 ms | p95 ms | p99 ms | errors | Baseline | baseline req/s "
        "| ratio | p95 < 250 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for kind, title in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        web = _web(results, kind)
        if not web:
            continue
        for phase, label, base_name in PAIRS:
            figures = web.get("phases", {}).get(phase)
            base = web.get("baselines", {}).get(base_name, {})
            if figures is None:
                continue
            if "not_available" in figures:
                lines.append(
                    f"| {title} | {label} | not available ({figures['not_available']}) | | | | | | | | |"
                )
                continue
            p95 = figures.get("p95_ms")
            lines.append(
                f"| {title} | {label} | {_f(figures.get('rps'))} | {_f(figures.get('p50_ms'))} "
                f"| {_f(p95)} | {_f(figures.get('p99_ms'))} | {_f(figures.get('errors'))} "
                f"| {BASELINE_NAMES[base_name]} | {_f(base.get('rps'))} "
                f"| {_f(ratio(figures.get('rps'), base.get('rps')), 2)} "
                f"| {_mark(None if p95 is None else p95 < P95_LIMIT_MS)} |"
            )
        for base_name in ("insert", "template"):
            base = web.get("baselines", {}).get(base_name)
            if base:
                lines.append(
                    f"| {title} | *baseline: {BASELINE_NAMES[base_name]}* | {_f(base.get('rps'))} "
                    f"| {_f(base.get('p50_ms'))} | {_f(base.get('p95_ms'))} | {_f(base.get('p99_ms'))} "
                    f"| {_f(base.get('errors'))} | | | | |"
                )
    lines.append("")
    for kind, title in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        web = _web(results, kind)
        register = (web or {}).get("phases", {}).get("register")
        if register and "confirmed_per_second" in register:
            lines.append(
                f"- {title}: {_f(register['confirmed_in_window'])} registrations confirmed during the "
                f"{_f(register['seconds'])} s measured, **{_f(register['confirmed_per_second'])} "
                "confirmed/s**; "
                f"machine CPU busy {_f(register.get('cpu_busy_percent'))} % during the phase."
            )
    lines.append("")


def _cpu_lines(results: dict[str, Any], lines: list[str]) -> None:
    parts = []
    for kind, title in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        web = _web(results, kind) or {}
        for group in ("phases", "baselines"):
            for name, figures in web.get(group, {}).items():
                shares = figures.get("cpu_percent")
                if shares:
                    flag = " (disturbed)" if figures.get("disturbed") else ""
                    parts.append(
                        f"{title} {name} {_f(shares.get('benchmark'), 0)}/{_f(shares.get('postgresql'), 0)}/"
                        f"{_f(shares.get('others'), 0)}{flag}"
                    )
    if parts:
        lines += [
            "CPU used during each phase, in % of the machine (benchmark processes: gunicorn, locust; "
            "PostgreSQL; other processes on the machine). A phase where other processes took more "
            "than 15 % is run again and the quieter run kept: " + "; ".join(parts) + ".",
            "",
        ]


def _mail_table(mail: dict[str, Any], lines: list[str]) -> None:
    lines += [
        f"{_f(mail['invites'])} invitations (multipart with text/calendar REQUEST and invite.ics, "
        f"{_f(mail.get('message_bytes_mean'))} bytes on average), PostgreSQL outbox, aiosmtpd on loopback.",
        "",
        "| Sender | delivered | duplicates | seconds (first→last accepted) | messages/s | ratio "
        "to raw smtplib |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (
        ("workers_1", "1 outbox worker"),
        ("workers_4", "4 outbox workers"),
        ("raw_smtplib", "raw smtplib, prebuilt, one connection"),
    ):
        row = mail.get(key)
        if not row:
            continue
        note = " (time limit reached)" if row.get("timed_out") else ""
        lines.append(
            f"| {label}{note} | {_f(row['delivered'])} of {_f(row['expected'])} | {_f(row['duplicates'])} "
            f"| {_f(row['window_seconds'], 2)} | {_f(row['per_second'])} "
            f"| {_f(row.get('ratio_to_raw', 1.0 if key == 'raw_smtplib' else None), 2)} |"
        )
    lines.append("")
    drain = mail.get("drain")
    if drain and "error" not in drain:
        lines += [
            f"**Confirmations while {_f(drain.get('reminders'))} reminders drain.** One long-running "
            f"worker; the reminders are queued first, then {_f(drain.get('signups'))} people sign up for "
            "another webinar, open loop (a fixed rate of arrivals, through the registration service). "
            "Latency runs from the sign-up's commit to the SMTP server accepting its confirmation.",
            "",
            "| confirmations delivered | p50 s | p95 s | max s | reminders delivered | reminders/s "
            "| reminders still queued when the sign-ups ended |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {_f(drain.get('confirmations_delivered'))} of {_f(drain.get('signups'))} "
            f"| {_f(drain.get('latency_p50_s'), 2)} | {_f(drain.get('latency_p95_s'), 2)} "
            f"| {_f(drain.get('latency_max_s'), 2)} | {_f(drain.get('reminders_delivered'))} "
            f"| {_f(drain.get('reminders_per_second'))} "
            f"| {_f(drain.get('reminders_left_when_signups_ended'))} |",
            "",
        ]


def _check(expected: Any, observed: Any) -> str:
    return f"| {expected} | {observed} | {'yes' if expected == observed else '**no**'} |"


def _scale(scale: dict[str, Any], lines: list[str]) -> None:
    if "error" in scale:
        lines += [f"The scale run failed: `{scale['error'][:300]}`", ""]
        return
    registrations = scale.get("registrations", {})
    invites = scale.get("invites", {})
    people, seats = scale["people"], scale["seats"]
    register = scale.get("register", {})
    instances = {2: "Two", 4: "Four"}.get(scale.get("instances", 2), str(scale.get("instances")))
    through = (
        " through PgBouncer (transaction pooling, psycopg preparing no statements)"
        if scale.get("pgbouncer")
        else ""
    )
    lines += [
        f"{instances} gunicorn instances ({scale.get('gunicorn_workers', 2)} workers each) and two outbox "
        f"workers on one PostgreSQL{through}; {_f(people)} people load the form (each user sticks to "
        "one instance), then all "
        f"press Register at once for {_f(seats)} seats. Result: "
        f"**{'passed' if scale.get('passed') else 'FAILED'}**.",
        "",
        "| Check | expected | observed | ok |",
        "| --- | ---: | ---: | --- |",
        "| confirmed " + _check(seats, registrations.get("confirmed", 0)),
        "| waitlisted " + _check(people - seats, registrations.get("waitlisted", 0)),
        "| confirmed people with exactly one invitation "
        + _check(seats, invites.get("confirmed_with_one_invite")),
        "| waitlisted people with an invitation " + _check(0, invites.get("waitlisted_with_invite")),
        "| 5xx answers " + _check(0, scale.get("5xx")),
        "| registrations answered 302 " + _check(people, register.get("ok")),
        "",
        f"The {_f(people)} simultaneous POSTs were answered in {_f(register.get('seconds'), 1)} s "
        f"({_f(register.get('rps'))} req/s; p50 {_f(register.get('p50_ms'))} ms, p95 "
        f"{_f(register.get('p95_ms'))} ms, "
        f"p99 {_f(register.get('p99_ms'))} ms: the crowd queues). The mail queue was empty "
        f"{_f(scale.get('mail_drain_seconds'))} s after the last answer; duplicate deliveries: "
        f"{_f(invites.get('duplicate_deliveries'))}.",
        "",
    ]


def _launch(launch: dict[str, Any], lines: list[str]) -> None:
    if "error" in launch:
        lines += [f"The launch run failed: `{launch['error'][:300]}`", ""]
        return
    page, signup, confirmation = (
        launch.get("page", {}),
        launch.get("signup", {}),
        launch.get("confirmation", {}),
    )
    cap = launch.get("mail_rate_cap")
    cap_text = (
        f"MAIL_MAX_PER_SECOND={cap}"
        if launch.get("mail_rate_cap_known")
        else f"MAIL_MAX_PER_SECOND={cap} set, but this code has no such setting yet: no cap applied"
    )
    lines += [
        f"Visitors arrive at fixed moments whatever the answers (open loop): {_f(launch.get('page_rate'))} "
        f"page views/s and {_f(launch.get('signup_rate'))} sign-ups/s (each loads the page, then posts the "
        f"form) for {_f(launch.get('seconds'))} s, one gunicorn instance ({launch.get('gunicorn_workers')} "
        f"workers), while two mail workers drain {_f(launch.get('reminders'))} reminders for another webinar "
        f"({cap_text}). Latency counts from each arrival's scheduled moment, so queueing is included.",
        "",
        "| Measure | answered | errors | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| Webinar page | {_f(page.get('ok'))} | {_f(page.get('errors'))} | {_f(page.get('p50_ms'))} | "
        f"{_f(page.get('p95_ms'))} | {_f(page.get('p99_ms'))} |",
        f"| Sign-up (page + POST) | {_f(signup.get('ok'))} | {_f(signup.get('errors'))} | "
        f"{_f(signup.get('p50_ms'))} | {_f(signup.get('p95_ms'))} | {_f(signup.get('p99_ms'))} |",
        f"| Confirmation: sign-up answered -> SMTP server accepted | {_f(confirmation.get('delivered'))} of "
        f"{_f(confirmation.get('of'))} | | {_f(confirmation.get('p50_ms'))} | "
        f"{_f(confirmation.get('p95_ms'))} | {_f(confirmation.get('p99_ms'))} |",
        "",
        f"- Reminders: {_f(launch.get('reminders_sent_during_load'))} accepted during the load "
        f"({_f(launch.get('reminders_per_second_during_load'))}/s); {_f(launch.get('reminders_delivered'))} "
        f"in all at {_f(launch.get('reminders_per_second'))}/s from first to last.",
        f"- CPU of the web processes: {_f(launch.get('web_cpu_ms_per_request'), 2)} ms per request; machine "
        f"during the load (benchmark / PostgreSQL / others, %): {launch.get('machine_cpu')}.",
        f"- 5xx answers: {_f(launch.get('5xx'))}; arrivals the generator sent late: "
        f"{_f(launch.get('late_arrivals'))}.",
        "",
    ]


def _faults(faults: dict[str, Any], lines: list[str]) -> None:
    lines += ["| Run | what happened | afterwards | passed |", "| --- | --- | --- | --- |"]
    smtp = faults.get("smtp_restart", {})
    if smtp:
        check = smtp.get("invites_check", {})
        lines.append(
            f"| SMTP server killed mid-delivery, back after {smtp.get('smtp_down_seconds', '?')} s "
            f"| killed after {_f(smtp.get('delivered_before_stop'))} of {_f(smtp.get('invites'))} messages; "
            f"retry delays {smtp.get('retry_delays')} "
            f"| {_f(check.get('confirmed_without_invite'))} confirmed without invitation, "
            f"{_f(check.get('duplicate_deliveries'))} duplicates, queue empty "
            f"{_f(smtp.get('recovery_seconds_after_restart'))} s after the restart "
            f"| {_pass(smtp)} |"
        )
    kill = faults.get("worker_sigkill", {})
    if kill:
        check = kill.get("invites_check", {})
        lines.append(
            f"| Worker SIGKILLed mid-batch, second worker started "
            f"| killed after {_f(kill.get('delivered_before_kill'))} of {_f(kill.get('invites'))}; "
            f"{_f(kill.get('claimed_by_killed_worker'))} messages left claimed (lease "
            f"WORKER_LEASE_SECONDS={kill.get('lease_seconds')}) "
            f"| {_f(check.get('confirmed_without_invite'))} confirmed without invitation, "
            f"{_f(check.get('duplicate_deliveries'))} duplicates; the orphaned batch was delivered "
            f"{_f(kill.get('claimed_messages_delivered_after_seconds'))} s after the kill "
            f"| {_pass(kill)} |"
        )
    pg = faults.get("postgres_restart", {})
    if pg:
        check = pg.get("invites_check", {})
        restart = pg.get("restart", {})
        lines.append(
            f"| PostgreSQL restarted during registration load ({_f(pg.get('users'))} users, 2 instances) "
            f"| `{restart.get('command', '?')}` took {_f(restart.get('seconds'), 2)} s "
            f"(ok: {restart.get('ok')}); {_f(pg.get('requests'))} requests "
            f"| 5xx inside the window ({_f(pg.get('window_seconds'), 2)} s): "
            f"{_f(pg.get('5xx_inside_window'))}, "
            f"outside: {_f(pg.get('5xx_outside_window'))}; {_f(pg.get('accepted'))} accepted registrations, "
            f"{_f(pg.get('accepted_missing'))} lost; {_f(check.get('confirmed_without_invite'))} confirmed "
            f"without invitation, {_f(check.get('duplicate_deliveries'))} duplicates; "
            f"{_f(pg.get('claimed_after_load'))} messages still claimed when the load ended (delivered once "
            f"the lease, WORKER_LEASE_SECONDS={pg.get('lease_seconds')}, ran out); queue empty after "
            f"{_f(pg.get('mail_drain_seconds'))} s "
            f"| {_pass(pg)} |"
        )
    lines.append("")
    for name, run in faults.items():
        if "error" in run:
            lines += [f"- {name} failed to run: `{run['error'][:300]}`"]
    lines.append("")


def _pass(run: dict[str, Any]) -> str:
    if "error" in run:
        return "**error**"
    return "yes" if run.get("passed") else "**no**"


def _profile(profile: dict[str, Any], lines: list[str]) -> None:
    registration = profile.get("registration")
    if not registration:
        return
    timing = profile.get("registration_timing") or {}
    sql = profile.get("sql_per_registration", [])
    lines += [
        "pyinstrument, in process through Flask's test client on PostgreSQL, "
        f"{_f(registration['count'])} registration POSTs: {_f(registration['ms_each'], 2)} ms each under "
        f"the profiler; **{_f(timing.get('wall_ms'), 2)} ms each without it** ({_f(timing.get('cpu_ms'), 2)} "
        f"ms CPU), the webinar's row locked {_f(timing.get('seat_lock_ms'), 2)} ms of it. No HTTP server, "
        f"no load generator. One registration runs {len(sql)} SQL statements:",
        "",
        "```",
        *sql,
        "```",
        "",
        f"Inclusive time of the app's functions: {_apps(registration, 12)}.",
        "",
        f"Own time by package: {_packages(registration, 10)}.",
        "",
        "Functions by own time (seconds over the whole profile; time in C code is given to its caller):",
        "",
        "| own s | function |",
        "| ---: | --- |",
        *[f"| {seconds:.3f} | `{name}` |" for name, seconds in registration["own_time"][:20]],
        "",
        "<details><summary>Call tree (registration POST)</summary>",
        "",
        "```",
        registration["tree"],
        "```",
        "",
        "</details>",
        "",
    ]
    feed = profile.get("feed")
    if feed:
        lines += [
            f"The series feed (500 webinars) takes **{_f(feed['ms_each'], 1)} ms** per request in process "
            f"({profile.get('sql_per_feed')} SQL statements). Functions by own time:",
            "",
            "| own s | function |",
            "| ---: | --- |",
            *[f"| {seconds:.3f} | `{name}` |" for name, seconds in feed["own_time"][:12]],
            "",
        ]


def _packages(entry: dict[str, Any], limit: int = 6) -> str:
    return ", ".join(f"{name} {share:g} %" for name, share in entry.get("by_package", [])[:limit])


def _apps(entry: dict[str, Any], limit: int = 6) -> str:
    return ", ".join(f"`{name}` {share:g} %" for name, share in entry.get("app_functions", [])[:limit])


def _busy(results: dict[str, Any], kind: str, phase: str) -> float | None:
    figures = (_web(results, kind) or {}).get("phases", {}).get(phase, {})
    return figures.get("cpu_busy_percent")


def why(results: dict[str, Any], targets: list[dict[str, Any]]) -> list[str]:
    """Generated explanations for missed targets, from the profile and the figures of this run."""
    profile = results.get("profile") or {}
    nproc = results["machine"].get("nproc") or 1
    missed = {t["id"] for t in targets if not t["met"]}
    lines: list[str] = []
    registration = profile.get("registration")
    timing = profile.get("registration_timing") or {}
    register_ids = {
        "confirmed_per_second_postgresql",
        "throughput_vs_insert_postgresql",
        "throughput_vs_insert_sqlite",
        "p95_register_postgresql",
        "p95_register_sqlite",
    }
    if registration and timing and missed & register_ids:
        cpu, lock = timing.get("cpu_ms") or 0, timing.get("seat_lock_ms") or 0
        lines.append(
            f"- **Registration, CPU.** One registration costs {_f(timing.get('wall_ms'), 1)} ms in "
            f"process ({_f(cpu, 1)} ms of it CPU of the web process, without the profiler), with "
            f"{len(profile.get('sql_per_registration', []))} SQL statements and "
            f"{profile.get('commits_per_registration')} commit(s). Inclusive time of the app's "
            f"functions (profile, section 6): {_apps(registration)}; own time by package: "
            f"{_packages(registration)}. {nproc} cores give at most about "
            f"{_f(nproc * 1000 / cpu, 0) if cpu else '–'} registrations/s for the web processes alone, "
            "before PostgreSQL, gunicorn and the load generator (on the same cores) take their share; "
            f"{CONFIRMED_PER_SECOND:g}/s would need about {_f(nproc * 1000 / CONFIRMED_PER_SECOND, 1)} ms "
            "of CPU per registration, everything included. The bare-insert baseline runs one statement "
            "and renders nothing."
        )
        if lock:
            lines.append(
                "- **Registration, one webinar.** The webinar's row stays locked from the seat UPDATE "
                f"(`take_seat`) to the commit: {_f(lock, 1)} ms per registration in process, without "
                "contention; whatever the request does between the two (the call tree in section 6 "
                "shows it) runs under the lock. On PostgreSQL every registration for the same webinar "
                f"queues for that row, so one webinar takes at most about {_f(1000 / lock, 0)} "
                "registrations/s whatever the number of cores, and less under load, when a process "
                "holding the lock waits for a core."
            )
        sqlite_busy = _busy(results, "sqlite", "register")
        if sqlite_busy is not None and sqlite_busy < 80:
            lines.append(
                f"- **Registration on SQLite** kept the machine only {_f(sqlite_busy)} % busy: the "
                "requests queue for SQLite's single write lock, which a writing request takes at its "
                "first statement (BEGIN IMMEDIATE, webinars/database.py) and holds to its commit."
            )
    p95_missed = sorted(t for t in missed if t.startswith("p95_"))
    if p95_missed:
        users = results["settings"]["users"]
        lines.append(
            "- **Latency.** The users have no think time, so by Little's law the mean latency is about "
            f"users ÷ throughput: with {users} users an endpoint stays under {P95_LIMIT_MS:g} ms only "
            f"above roughly {_f(users * 1000 / P95_LIMIT_MS, 0)} req/s. Every p95 missed here is the "
            "throughput of that endpoint seen from the queue: "
            + "; ".join(t["target"].split(": ", 1)[-1] for t in targets if t["id"] in p95_missed)
            + "."
        )
    feed = profile.get("feed")
    if feed and any(t.startswith("p95_feed") for t in missed):
        lines.append(
            f"- **Series feed.** Building the 500-webinar feed costs {_f(feed['ms_each'], 0)} ms in "
            f"process, with {profile.get('sql_per_feed')} SQL statements (a constant number, section 5). "
            f"Inclusive time of the app's functions: {_apps(feed)}; own time by package: "
            f"{_packages(feed)}."
        )
    mail = profile.get("mail")
    if mail and mail.get("ms_per_message"):
        lines.append(
            f"- **Mail worker** (no target, for the ratio in section 2). {_f(mail['ms_per_message'], 1)} ms "
            f"per message in process with a transport that sends nothing, {_f(mail.get('sql_per_message'))} "
            f"SQL statements and {_f(mail.get('commits_per_message'))} commits per message. Inclusive time "
            f"of the app's functions: {_apps(mail)}; own time by package: {_packages(mail)}."
        )
    return lines


def _code_line(code: dict[str, Any]) -> str:
    changed = code.get("changed") or []
    extra = f", with uncommitted changes in {', '.join(f'`{p}`' for p in changed)}" if changed else ""
    return f"Code: commit `{code.get('commit')}`{extra}."


def render(results: dict[str, Any], analysis: str = "") -> str:
    machine = results["machine"]
    settings = results["settings"]
    targets = results.get("targets") or evaluate(results)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks`); the numbers below come from the run of "
        f"{results['date']} (`bench-results/{results['id']}.json`, not committed). "
        f"The whole run took {_f(results.get('wall_seconds', 0) / 60, 1)} minutes.",
        "",
        f"Machine: {machine.get('nproc')} cores ({machine.get('cpu', '?')}), "
        f"{machine.get('memory_gib')} GiB, "
        f"Python {machine.get('python')}, PostgreSQL {machine.get('postgresql')}, "
        f"Flask {machine.get('flask')}, SQLAlchemy {machine.get('sqlalchemy')}, gunicorn "
        f"{machine.get('gunicorn')}, "
        f"locust {machine.get('locust')}, aiosmtpd {machine.get('aiosmtpd')}. Load average when the run "
        f"started: {_f(results.get('loadavg_start'), 2)}.",
        "",
        _code_line(results.get("code") or {}),
        "",
        "## Targets",
        "",
        "| Target | measured | |",
        "| --- | --- | --- |",
        *[f"| {t['target']} | {t['shown']} | {_mark(t['met'])} |" for t in targets],
        "",
    ]
    reasons = why(results, targets)
    if reasons:
        lines += ["### Why targets are missed", "", *reasons, ""]
    if analysis:
        lines += [analysis.strip(), ""]
    lines += [
        "## 1. HTTP throughput and latency",
        "",
        f"{settings['gunicorn']}, app in production settings (`WEBINARS_CONFIG=production`, rate limits off: "
        f"`RATELIMIT_ENABLED=0`); {settings['users']} locust users without think time (closed loop, "
        f"each sends its next request when the previous one is answered), {settings['warmup']:g} s "
        "of warm-up "
        f"then {settings['duration']:g} s measured. The load generator runs on the same "
        f"{machine.get('nproc')} cores. Registration: each user loads the webinar page once "
        "(session cookie and "
        "CSRF token, as a browser), then posts the form again and again with a new address each time; a 302 "
        "is a success. No mail worker runs during these phases (the outbox only fills). Baselines "
        "(`benchmarks/baseline_app.py`, same gunicorn settings, same database kind): a minimal "
        "Flask app that "
        "inserts one row per POST, and one that renders one small template per GET; ratio = the app's "
        "req/s ÷ the baseline's.",
        "",
    ]
    _http_tables(results, lines)
    _cpu_lines(results, lines)
    for entry in results.get("web", []):
        if "error" in entry:
            lines += [f"The {entry['database']} part failed: `{entry['error'][:500]}`", ""]
    if results.get("mail", {}).get("error"):
        lines += [
            "## 2. Mail throughput",
            "",
            f"The mail part failed: `{results['mail']['error'][:500]}`",
            "",
        ]
    elif results.get("mail"):
        lines += ["## 2. Mail throughput", ""]
        _mail_table(results["mail"], lines)
        lines += [
            "Workers run `flask --app webinars worker --once` (batches of 50, one SMTP connection per batch, "
            "each outcome committed on its own); messages/s counts from the first to the last message the "
            "server accepted. Raw smtplib sends the same messages, built beforehand, over one connection.",
            "",
        ]
    if results.get("scale"):
        lines += ["## 3. Scale run", ""]
        _scale(results["scale"], lines)
    if results.get("pgbouncer"):
        lines += ["## 3b. Scale run through PgBouncer", ""]
        _scale(results["pgbouncer"], lines)
    if results.get("launch"):
        lines += ["## 3c. Launch day (open loop)", ""]
        _launch(results["launch"], lines)
    if results.get("faults"):
        lines += ["## 4. Fault runs", ""]
        _faults(results["faults"], lines)
    lines += [
        "## 5. Query counts",
        "",
        "`tests/test_query_counts.py` counts the SQL statements of the attendee list, the public webinar "
        "page, the site feed and the series feed with 3 and with 30 registrations or webinars, on SQLite "
        "and PostgreSQL: the counts must be equal (no N+1).",
        "",
    ]
    if results.get("profile"):
        lines += ["## 6. Profile: where the time goes", ""]
        _profile(results["profile"], lines)
        mail = results["profile"].get("mail")
        if mail and mail.get("messages"):
            lines += [
                f"The outbox worker, {_f(mail['messages'])} messages to a transport that sends nothing: "
                f"{_f(mail.get('ms_per_message'), 2)} ms per message. Functions by own time:",
                "",
                "| own s | function |",
                "| ---: | --- |",
                *[f"| {seconds:.3f} | `{name}` |" for name, seconds in mail["own_time"][:12]],
                "",
            ]
    lines += [
        "## How to run",
        "",
        "```sh",
        "make bench                                 # everything, about 15 minutes on 2 cores",
        ".venv/bin/python -m benchmarks --only web  # parts: web, mail, scale, pgbouncer, launch, faults",
        ".venv/bin/python -m benchmarks --quick     # shorter phases, smaller runs (no docs rewrite)",
        ".venv/bin/python -m benchmarks.report bench-results/<id>.json   # rewrite this page",
        "```",
        "",
        "It needs PostgreSQL (`BENCH_DATABASE_URL`, default the test server "
        "`postgresql+psycopg://postgres@127.0.0.1:5432/test`; each part works in a schema of its own, "
        "dropped afterwards) and, for the PostgreSQL restart, `BENCH_PG_RESTART` (default "
        "`pg_ctlcluster --skip-systemctl-redirect 15 main restart`, run as root).",
        "",
    ]
    return "\n".join(lines)


def write(results: dict[str, Any], analysis_path: Path | None = None) -> None:
    analysis = analysis_path.read_text() if analysis_path and analysis_path.exists() else ""
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(results, analysis))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit("usage: python -m benchmarks.report bench-results/<id>.json")
    results = json.loads(Path(argv[0]).read_text())
    write(results, ROOT / "benchmarks" / "analysis.md")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
