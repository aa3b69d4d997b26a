"""Run one locust phase (drive.py in a subprocess) and summarise what it logged."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import PYTHON, ROOT, percentile, run


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (CPU ticks used, parent pid, command name), from /proc."""
    found: dict[int, tuple[int, int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2 :].split()
        found[int(entry)] = (int(rest[11]) + int(rest[12]), int(rest[1]), name)
    return found


def cpu_shares(
    before: dict[int, tuple[int, int, str]], after: dict[int, tuple[int, int, str]], seconds: float
) -> dict[str, float]:
    """CPU used between two snapshots, in % of the machine: by the benchmark's own processes
    (descendants of this one), by PostgreSQL, and by everything else (other people's work)."""
    ours = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, (_, parent, _) in after.items():
            if parent in ours and pid not in ours:
                ours.add(pid)
                changed = True
    used = {"benchmark": 0.0, "postgresql": 0.0, "others": 0.0}
    for pid, (ticks, _, name) in after.items():
        delta = ticks - before.get(pid, (0, 0, ""))[0] if pid in before else ticks
        if delta <= 0:
            continue
        key = "benchmark" if pid in ours else "postgresql" if name.startswith("postgres") else "others"
        used[key] += delta
    capacity = seconds * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
    return {key: round(100 * value / capacity, 1) for key, value in used.items()} if capacity else used


def wait_quiet(limit: float = 90.0, threshold: float = 10.0, sample: float = 3.0) -> float:
    """Wait (up to ``limit`` seconds) until other processes use less than ``threshold`` % of the CPU
    over ``sample`` seconds; returns their last share."""
    deadline = time.monotonic() + limit
    while True:
        before, started = processes(), time.monotonic()
        time.sleep(sample)
        others = cpu_shares(before, processes(), time.monotonic() - started)["others"]
        if others < threshold or time.monotonic() >= deadline:
            return others


def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return None


def drive(
    workdir: Path,
    label: str,
    user_class: str,
    hosts: list[str],
    *,
    users: int,
    warmup: float = 3.0,
    duration: float = 15.0,
    crowd: bool = False,
    slug: str = "",
    series: str = "",
    spawn_rate: float = 0,
    timeout: float = 900,
    request_timeout: float = 120,
) -> dict[str, Any]:
    """Run locust with ``users`` users of ``user_class``; returns drive.py's JSON plus machine load.
    ``request_timeout``: how long a user waits for an answer before counting the request failed."""
    out = workdir / f"drive-{label}.json"
    env = dict(os.environ)
    env.update(
        BENCH_SLUG=slug,
        BENCH_SERIES=series,
        BENCH_HOSTS=",".join(hosts),
        BENCH_RUN=f"{label}-{int(time.time())}",
        PYTHONPATH=str(ROOT),
        BENCH_REQUEST_TIMEOUT=str(request_timeout),
    )
    args = [PYTHON, "-m", "benchmarks.drive", "--user-class", user_class, "--users", str(users)]
    args += ["--warmup", str(warmup), "--duration", str(duration), "--out", str(out)]
    if spawn_rate:
        args += ["--spawn-rate", str(spawn_rate)]
    if crowd:
        args += ["--crowd"]
    load_before = loadavg()
    busy0, total0 = cpu_times()
    snapshot, started = processes(), time.monotonic()
    run(args, env, timeout=timeout)
    shares = cpu_shares(snapshot, processes(), time.monotonic() - started)
    busy1, total1 = cpu_times()
    result = json.loads(out.read_text())
    result["loadavg_before"] = load_before
    result["cpu_busy_percent"] = (
        round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None
    )
    result["cpu_percent"] = shares
    out.unlink(missing_ok=True)
    return result


def summarise(
    result: dict[str, Any], name: str, since: float | None = None, until: float | None = None
) -> dict[str, Any]:
    """Throughput and latency of the requests called ``name`` answered in [since, until)."""
    since = result.get("measure_start") if since is None else since
    until = result.get("measure_end") if until is None else until
    rows = [
        r
        for r in result["requests"]
        if r[2] == name and (since is None or since <= r[0] + r[1] / 1000 < (until or 0))
    ]
    ok = [r for r in rows if r[4] is None]
    seconds = (until - since) if since is not None and until is not None else None
    latencies = [r[1] for r in ok]
    statuses = Counter(str(r[3]) for r in rows)
    per_second: list[int] = []
    if since is not None and seconds:
        buckets = Counter(int(r[0] + r[1] / 1000 - since) for r in ok)
        per_second = [buckets.get(second, 0) for second in range(int(seconds))]
    return {
        "requests": len(rows),
        "ok": len(ok),
        "errors": len(rows) - len(ok),
        "status": dict(sorted(statuses.items())),
        "5xx": sum(1 for r in rows if 500 <= r[3] < 600),
        "seconds": round(seconds, 2) if seconds else None,
        "rps": round(len(ok) / seconds, 1) if seconds else None,
        "p50_ms": _round(percentile(latencies, 50)),
        "p95_ms": _round(percentile(latencies, 95)),
        "p99_ms": _round(percentile(latencies, 99)),
        "mean_ms": _round(sum(latencies) / len(latencies)) if latencies else None,
        "users": result.get("users"),
        "cpu_busy_percent": result.get("cpu_busy_percent"),
        "cpu_percent": result.get("cpu_percent"),
        "loadavg_before": result.get("loadavg_before"),
        "sample_errors": [e for e, _ in Counter(r[4] for r in rows if r[4]).most_common(3)],
        "ok_per_second": per_second,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
