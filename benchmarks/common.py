"""Shared helpers for the orchestrator: databases, subprocesses, gunicorn, waiting, percentiles.

Nothing here imports locust or gevent: the load generator runs in a subprocess of its own (drive.py).
Every process started through ``spawn`` is remembered and ended by ``stop_all`` (by its own id).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable
SECRET_KEY = "benchmark-only-secret-key-not-for-production"
# The PostgreSQL server the benchmarks use (a schema of their own is created in it and dropped after).
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

_processes: list[subprocess.Popen[Any]] = []


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


# --- databases -------------------------------------------------------------------------------------


@dataclass
class Database:
    """One benchmark database: an SQLite file, or a fresh schema in the PostgreSQL server."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    schema: str | None = None
    path: Path | None = None

    @classmethod
    def sqlite(cls, folder: Path, name: str) -> Database:
        path = folder / f"{name}.db"
        return cls("sqlite", f"sqlite:///{path}", path=path)

    @classmethod
    def postgresql(cls, name: str) -> Database:
        schema = f"bench_{os.getpid()}_{name}"
        separator = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
        database = cls("postgresql", url, schema=schema)
        database._pg(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
        return database

    def _pg(self, *statements: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_URL)
        try:
            with engine.begin() as connection:
                for statement in statements:
                    connection.execute(sa.text(statement))
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.kind == "postgresql" and self.schema:
            try:
                self._pg(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            except Exception as error:  # the server may be down after a failed fault run
                log(f"could not drop schema {self.schema}: {error}")
        elif self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def postgres_available() -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def postgres_version() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


# --- environment and subprocesses ------------------------------------------------------------------


def app_env(database: Database, instance: Path, **extra: Any) -> dict[str, str]:
    """The environment for the app's processes (gunicorn, flask worker, seeding)."""
    env = dict(os.environ)
    for name in ("FLASK_DEBUG", "MAIL_SERVER", "MAIL_PORT"):
        env.pop(name, None)
    env.update(
        {
            "WEBINARS_CONFIG": "production",
            "SECRET_KEY": SECRET_KEY,
            "BASE_URL": "https://webinars.bench.example.org",
            "DATABASE_URL": database.url,
            "WEBINARS_INSTANCE": str(instance),
            "RATELIMIT_ENABLED": "0",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def spawn(args: Sequence[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[Any]:
    """Start a process in a session of its own (so its children can be ended with it)."""
    handle = open(log_path, "ab")  # noqa: SIM115 - closed when the process ends
    process = subprocess.Popen(
        list(args), cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    _processes.append(process)
    return process


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """End one process we started (its process group: gunicorn's workers go with their master);
    SIGKILL if it does not go in time."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process in _processes:
        _processes.remove(process)


def stop_all() -> None:
    for process in list(_processes):
        stop(process, timeout=5)


def run(args: Sequence[str], env: dict[str, str], timeout: float = 600, **kwargs: Any) -> str:
    """Run a command to completion; its stdout is returned, a failure raises with its output."""
    result = subprocess.run(
        list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed "
            f"({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def flask(args: Sequence[str], env: dict[str, str], timeout: float = 600) -> str:
    return run([str(BIN / "flask"), "--app", "webinars", *args], env, timeout=timeout)


def seed(args: Sequence[str], env: dict[str, str], timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m benchmarks.seed ...`` and return the JSON it prints last."""
    out = run([PYTHON, "-m", "benchmarks.seed", *args], env, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


def migrate(env: dict[str, str]) -> None:
    flask(["db", "upgrade"], env, timeout=300)


# --- HTTP ------------------------------------------------------------------------------------------


def http_status(url: str, timeout: float = 10) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def wait_http(url: str, process: subprocess.Popen[Any] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            http_status(url, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Gunicorn:
    """A gunicorn instance serving ``app`` on loopback."""

    app: str
    env: dict[str, str]
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            self.app,
        ]

    def start(self, probe: str = "/") -> Gunicorn:
        self.process = spawn(self.command(), self.env, self.log_path)
        # Workers import the app all at once: on a machine others load heavily that takes minutes.
        wait_http(self.url + probe, self.process, timeout=240)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def gunicorn_settings(workers: int) -> str:
    return f"gunicorn {workers} sync workers, --backlog 2048, --timeout 60, no access log"


def machine_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        facts["postgresql"] = postgres_version()
    except Exception:
        facts["postgresql"] = None
    from importlib.metadata import PackageNotFoundError, version

    for package in ("flask", "sqlalchemy", "gunicorn", "locust", "aiosmtpd", "psycopg", "pyinstrument"):
        try:
            facts[package] = version(package)
        except PackageNotFoundError:
            facts[package] = None
    return facts


def read_lines(path: Path) -> Iterable[list[str]]:
    if not path.exists():
        return []
    return [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line.strip()]


# --- PgBouncer ---------------------------------------------------------------------------------------

PGBOUNCER = os.environ.get("BENCH_PGBOUNCER", "/usr/sbin/pgbouncer")
PGBOUNCER_USER = os.environ.get("BENCH_PGBOUNCER_USER", "postgres")


@dataclass
class PgBouncer:
    """A PgBouncer in transaction pooling mode in front of one benchmark schema.

    PgBouncer passes no ``options`` startup parameter on, so the schema is chosen by a role of the
    run's own whose default search_path is that schema; PgBouncer logs in to PostgreSQL as that role
    whoever the client says it is (auth_type any)."""

    database: Database
    folder: Path
    pool_size: int = 20
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[Any] | None = None

    @property
    def role(self) -> str:
        return f"{self.database.schema}_role"

    @property
    def url(self) -> str:
        return f"postgresql://bench@127.0.0.1:{self.port}/bench"

    def start(self) -> PgBouncer:
        from sqlalchemy.engine import make_url

        schema, role = self.database.schema, self.role
        self.database._pg(
            f'DROP ROLE IF EXISTS "{role}"',
            f'CREATE ROLE "{role}" LOGIN',
            f'ALTER ROLE "{role}" SET search_path = "{schema}"',
            f'ALTER SCHEMA "{schema}" OWNER TO "{role}"',
        )
        target = make_url(PG_URL)
        # PgBouncer refuses to run as root: then it runs as PostgreSQL's own user, in a folder it may use.
        as_root = os.geteuid() == 0
        home = self.folder / f"pgbouncer-{self.port}"
        home.mkdir(exist_ok=True)
        if as_root:
            self.folder.chmod(self.folder.stat().st_mode | 0o011)
            home.chmod(0o777)
        ini = home / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"bench = host={target.host or '127.0.0.1'} port={target.port or 5432} "
            f"dbname={target.database} user={role}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            "auth_type = any\npool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\nmax_client_conn = 2000\n"
            f"logfile = {home / 'pgbouncer.log'}\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        ini.chmod(0o644)
        command = [PGBOUNCER, *(["-u", PGBOUNCER_USER] if as_root else []), str(ini)]
        self.process = spawn(command, dict(os.environ), self.folder / "pgbouncer.out")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"PgBouncer did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        try:  # the role owns the schema and its tables: they go with it
            self.database._pg(f'DROP OWNED BY "{self.role}"', f'DROP ROLE IF EXISTS "{self.role}"')
        except Exception as error:  # the server may be down
            log(f"could not drop role {self.role}: {error}")
