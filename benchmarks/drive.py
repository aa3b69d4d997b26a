"""Drive load with locust, used as a library, in a process of its own (locust patches the process
with gevent). Every request is logged (start, duration, name, status, ok, e-mail for registrations)
to a JSON file that the orchestrator reads.

    python -m benchmarks.drive --user-class Registrant --users 50 --warmup 3 --duration 15 --out f.json
    python -m benchmarks.drive --user-class CrowdRegistrant --users 2000 --crowd --out f.json

Settings for the users come from the environment (see locustfile.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import gevent
from locust.env import Environment

from benchmarks import locustfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drive")
    parser.add_argument("--user-class", required=True, choices=sorted(locustfile.USER_CLASSES))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=0, help="users per second (0: all at once)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--crowd", action="store_true", help="each user registers once, all together")
    parser.add_argument("--crowd-timeout", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    logging.getLogger("locust").setLevel(logging.WARNING)

    user_class = locustfile.USER_CLASSES[args.user_class]
    env = Environment(user_classes=[user_class], host=(locustfile.HOSTS or [None])[0])
    requests: list[list[object]] = []

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        response: object = None,
        context: dict | None = None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: object,
    ) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        email = (context or {}).get("email")
        error = None if exception is None else f"{type(exception).__name__}: {exception}"[:200]
        requests.append([start_time, round(response_time, 3), name, status, error, email])

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    spawn_rate = args.spawn_rate or args.users
    started = time.time()
    runner.start(args.users, spawn_rate=spawn_rate)
    result: dict[str, object] = {"user_class": args.user_class, "users": args.users, "started": started}
    if args.crowd:
        deadline = time.monotonic() + args.crowd_timeout
        while locustfile.crowd["ready"] < args.users and time.monotonic() < deadline:
            gevent.sleep(0.05)
        result["crowd_ready"] = locustfile.crowd["ready"]
        result["released"] = time.time()
        locustfile.CROWD_GATE.set()
        while locustfile.crowd["done"] < result["crowd_ready"] and time.monotonic() < deadline:
            gevent.sleep(0.05)
        result["crowd_done"] = locustfile.crowd["done"]
        result["finished"] = time.time()
    else:
        gevent.sleep(args.warmup)
        result["measure_start"] = time.time()
        gevent.sleep(args.duration)
        result["measure_end"] = time.time()
    runner.quit()
    result["stopped"] = time.time()
    result["requests"] = requests
    with open(args.out, "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
