"""``python -m benchmarks``: run every part, write bench-results/<id>.json and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import faults, launch, load, mail, report, scale, web
from .common import ROOT, gunicorn_settings, log, machine_facts, postgres_available, stop_all
from .faults import RESTART_COMMAND

PARTS = ("web", "mail", "scale", "pgbouncer", "launch", "faults")

FULL: dict[str, Any] = {
    "users": 50,
    "warmup": 3.0,
    "duration": 15.0,
    "workers": 4,
    "series": 500,
    "invites": 10_000,
    "mail_limit_seconds": 240,
    "drain_reminders": 10_000,
    "drain_signups": 60,
    "drain_signup_rate": 2.0,
    "drain_head_start": 5.0,
    "scale_people": 2000,
    "scale_seats": 500,
    "scale_gunicorn_workers": 2,
    "drain_limit_seconds": 180,
    "fault_invites": 2000,
    "smtp_down_seconds": 5,
    "fault_lease_seconds": 10,
    "fault_pg_seats": 1000,
    "fault_pg_duration": 40.0,
    "fault_pg_restart_after": 10.0,
    "profile": True,
    "profile_registrations": 300,
    "disturbed_percent": 15.0,
    "pgb_people": 10_000,
    "pgb_seats": 2_000,
    "launch_seconds": 60.0,
    "launch_page_rate": 60.0,
    "launch_signup_rate": 15.0,
    "launch_reminders": 10_000,
    "launch_mail_rate": 100,
}
QUICK = dict(
    FULL,
    duration=5.0,
    warmup=2.0,
    invites=1000,
    drain_reminders=2000,
    drain_signups=20,
    scale_people=400,
    scale_seats=100,
    fault_invites=500,
    fault_pg_duration=20.0,
    fault_pg_restart_after=5.0,
    profile_registrations=50,
    pgb_people=1000,
    pgb_seats=200,
    launch_seconds=20.0,
    launch_reminders=2000,
)


def code_version() -> dict[str, Any]:
    """The commit benchmarked, and the files changed beside it (read-only git commands)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "webinars", "templates", "config.py")
               .splitlines() if line.strip()]  # fmt: skip
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "changed": changed}


def ensure_postgres_running() -> None:
    """After the restart fault run, PostgreSQL must be up again (start it if the restart left it down)."""
    if postgres_available():
        return
    command = RESTART_COMMAND.replace(" restart", " start")
    log(f"PostgreSQL is not answering: {command}")
    subprocess.run(command.split(), check=False, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts (repeatable)")
    parser.add_argument("--quick", action="store_true", help="short phases and small runs; no docs rewrite")
    parser.add_argument("--duration", type=float, help="seconds measured per HTTP phase")
    parser.add_argument("--users", type=int, help="concurrent locust users per HTTP phase")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) afterwards")
    args = parser.parse_args(argv)

    settings = dict(QUICK if args.quick else FULL)
    if args.duration:
        settings["duration"] = args.duration
    if args.users:
        settings["users"] = args.users
    settings["gunicorn"] = gunicorn_settings(settings["workers"])
    parts = args.only or list(PARTS)

    if not postgres_available():
        raise SystemExit("PostgreSQL is not reachable (BENCH_DATABASE_URL / TEST_DATABASE_URL): cannot run.")
    started = time.time()
    stamp = datetime.now(UTC)
    run_id = stamp.strftime("%Y%m%d-%H%M%S")
    workdir = Path(tempfile.mkdtemp(prefix="webinars-bench-"))
    results: dict[str, Any] = {
        "id": run_id,
        "date": stamp.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "code": code_version(),
        "settings": settings,
        "parts": parts,
        "loadavg_start": load.loadavg(),
    }
    log(f"run {run_id}: parts {', '.join(parts)}; work folder {workdir}")
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"{run_id}.json"
    try:
        if "web" in parts:
            results["web"] = []
            for kind in ("postgresql", "sqlite"):
                entry = _guarded(f"web {kind}", web.run_database, kind, workdir, settings)
                entry.setdefault("database", kind)
                profile = entry.pop("profile", None)
                if profile:
                    results["profile"] = profile
                results["web"].append(entry)
                _save(out, results, started)
        if "mail" in parts:
            results["mail"] = _guarded("mail", mail.run, workdir, settings)
            _save(out, results, started)
        if "scale" in parts:
            results["scale"] = _guarded("scale", scale.run, workdir, settings)
            results["scale"]["gunicorn_workers"] = settings["scale_gunicorn_workers"]
            _save(out, results, started)
        if "pgbouncer" in parts:
            results["pgbouncer"] = _guarded("pgbouncer", scale.run_pgbouncer, workdir, settings)
            results["pgbouncer"]["gunicorn_workers"] = settings["scale_gunicorn_workers"]
            _save(out, results, started)
        if "launch" in parts:
            results["launch"] = _guarded("launch", launch.run, workdir, settings)
            _save(out, results, started)
        if "faults" in parts:
            results["faults"] = faults.run(workdir, settings)
    finally:
        stop_all()
        ensure_postgres_running()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["targets"] = report.evaluate(results)
    _save(out, results, started)
    log(f"results: {out}")
    for target in results["targets"]:
        log(f"target: {target['target']}: {target['shown']} -> {'met' if target['met'] else 'MISSED'}")
    if not args.no_docs and not args.quick and set(parts) == set(PARTS):
        report.write(results, ROOT / "benchmarks" / "analysis.md")
        log(f"wrote {report.DOC}")
    log(f"done in {(time.time() - started) / 60:.1f} minutes")
    return 0


def _guarded(name: str, function: Any, *args: Any) -> dict[str, Any]:
    """Run one part; a failure is recorded in the results (and the page) instead of ending the run."""
    try:
        return function(*args)
    except Exception as error:
        log(f"{name} failed: {error}")
        stop_all()
        return {"error": f"{type(error).__name__}: {error}"[-3000:]}


def _save(path: Path, results: dict[str, Any], started: float) -> None:
    results["wall_seconds"] = round(time.time() - started, 1)
    path.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
