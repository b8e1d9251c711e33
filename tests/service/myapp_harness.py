"""Helpers for the service tier: real PostgreSQL 15 and Redis from Debian packages on 127.0.0.1 in
temporary directories, and the myapp binary as a process.

Any local user can reach a loopback port, so neither server trusts one:
- PostgreSQL: scram-sha-256 over TCP with a password made per run (never in the repository); `trust`
  only on its Unix socket, in a 0700 directory of the postgres user (root, or the contributor's own).
- Redis: the chapter's service has no Redis password setting, so the unauthenticated `default` user is
  what the service is: GET/SET/PING on keys `myapp:*`, nothing else (no CONFIG, FLUSHALL, KEYS, MODULE,
  other keys). The harness authenticates as user `snipcheck` with a password made per run (in a 0600
  config file, never on a command line). As root, redis-server runs as the `redis` user.
- Both are direct children with a parent-death signal, recorded in snipcheck.harness.spawned's registry until
  stopped (a killed run's servers are reaped at the next session start). A server is ready when *it*
  answers: its own process is alive and the answer comes from it (PostgreSQL: its data directory over an
  authenticated connection; Redis: `ACL WHOAMI` is `snipcheck` and INFO's process_id is its pid) - a
  foreign server on the port is refused by name. A port taken meanwhile (free_port() only checks that
  it is free when asked) moves the server to another port.

Kept out of conftest.py (unique module name) so test modules can import it."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from snipcheck.harness import spawned, waiting
from snipcheck.model.paths import SNIPPETS
from support import postgres_bin, require  # noqa: F401 (require re-exported: skip locally, fail with CI=true)

MYAPP = SNIPPETS / "myapp"
PG_BIN = postgres_bin()
DB_USER, DB_NAME = "myapp", "myapp"
# per run (per pytest process): a space and an @ keep the URL quoting under test
DB_PASSWORD = f"s3cret p@ss {secrets.token_urlsafe(18)}"
REDIS_ADMIN = "snipcheck"  # the harness's Redis user; `default` (no password) is what the service may do
REDIS_APP_ACL = "resetkeys ~myapp:* resetchannels -@all +get +set +ping +hello +echo +select +quit"
PORT_ATTEMPTS = 5
BUILD_ARGS = {"VERSION": "1.2.3-test", "COMMIT": "abc1234", "BUILD_TIME": "2026-01-01T00:00:00Z"}
USERS_KEY = "myapp:users:v1"


class ServerError(AssertionError):
    """A test server did not start, or what answers on its port is not it; the message says which."""


def free_port() -> int:
    """A loopback port free when asked, below the kernel's ephemeral range (snipcheck.harness.spawned)."""
    return spawned.free_port()


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    return waiting.until(pred, timeout=timeout, what=what, interval=interval).value


def as_postgres_user() -> dict:
    """initdb/postgres refuse to run as root: drop to the postgres user when we are root."""
    return as_user("postgres")


def as_user(name: str) -> dict:
    """subprocess arguments that run a child as system user `name` (only root can; else nothing)."""
    if os.geteuid() != 0:
        return {}
    return {"user": name, "group": name, "extra_groups": []}


@dataclass
class Postgres:
    port: int
    workdir: Path
    log: Path
    data: Path = Path()
    server: spawned.Server | None = None

    @classmethod
    def start(cls, workdir: Path, data: Path, first_port: int | None = None) -> Postgres:
        """postgres on 127.0.0.1 (a free port; another when that one is taken by the time it binds) and on a
        socket in `workdir`; returns once it answers an authenticated connection with its data directory."""
        for attempt in range(PORT_ATTEMPTS):
            port = first_port if first_port is not None and attempt == 0 else free_port()
            pg = cls(port=port, workdir=workdir, log=workdir / "postgres.log", data=data)
            pg.log.unlink(missing_ok=True)  # this start's lines only: they say whether the port was taken
            pg.server = spawned.start(
                "postgres-service",
                [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-k", str(workdir)],
                log=pg.log,
                workdir=workdir,
                stop_signal=signal.SIGINT,  # fast shutdown
                cwd=workdir,
                **as_postgres_user(),
            )  # fmt: skip
            if pg._wait_ready():
                return pg
            pg.stop()
        raise ServerError(f"PostgreSQL found its port taken {PORT_ATTEMPTS} times; last log:\n{pg.log.read_text()}")

    def _wait_ready(self) -> bool:
        """True once this server answers; False when it exited because its port was taken; else raises."""
        server = self.server
        assert server is not None

        def answers() -> bool:
            if (why := server.died()) is not None:
                raise waiting.Abort(why)
            res = subprocess.run(
                [str(PG_BIN / "psql"), "-X", "-w", "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER,
                 "-d", "postgres", "-tA", "-c", "SHOW data_directory"],  # (the app's database comes later)
                capture_output=True,
                text=True,
                timeout=10,
                env={**os.environ, "PGPASSWORD": DB_PASSWORD, "PGCONNECT_TIMEOUT": "3"},
            )  # fmt: skip
            if res.returncode == 0 and res.stdout.strip() != str(self.data):
                raise ServerError(
                    f"127.0.0.1:{self.port} is answered by another PostgreSQL (data directory "
                    f"{res.stdout.strip()}), not the one this run started with {self.data}"
                )
            return res.returncode == 0

        return _wait_started(self, server, answers, 60, f"PostgreSQL on 127.0.0.1:{self.port}", "PostgreSQL")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=30)

    @property
    def url(self) -> str:
        return f"postgres://{DB_USER}:{quote(DB_PASSWORD, safe='')}@127.0.0.1:{self.port}/{DB_NAME}?sslmode=disable"

    def psql_args(self, *extra: str) -> list[str]:
        return [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            DB_USER,
            "-d",
            DB_NAME,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            *extra,
        ]

    def psql(self, sql: str) -> str:
        res = subprocess.run(
            self.psql_args("-tA", "-c", sql),
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PGPASSWORD": DB_PASSWORD},
        )
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    def session(self) -> subprocess.Popen:
        """An interactive psql session (stdin/stdout pipes), e.g. to hold a lock."""
        return subprocess.Popen(
            self.psql_args("-q"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PGPASSWORD": DB_PASSWORD},
        )

    def lock_users(self) -> subprocess.Popen:
        """A psql session holding ACCESS EXCLUSIVE on `users`: queries on it block until the session
        ends its transaction (write COMMIT or ROLLBACK to its stdin)."""
        locker = self.session()
        assert locker.stdin and locker.stdout
        locker.stdin.write("BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == "locked"
        return locker

    def wait_for_lock_waiter(self, timeout: float = 10) -> None:
        """Until one query (the app's) waits on the lock that `lock_users` holds: the request is in flight."""
        wait_until(
            lambda: self.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "1",
            timeout,
            "the users query to wait on the lock",
        )


@dataclass
class Redis:
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    server: spawned.Server | None = None
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """redis-cli as the harness's user `snipcheck` (password in REDISCLI_AUTH, not on a command line)."""
        return self.run_cli(*args, user=REDIS_ADMIN, password=self.password).stdout.strip()

    def run_cli(
        self, *args: str, user: str | None = None, password: str | None = None, timeout: float = 10
    ) -> subprocess.CompletedProcess:
        """redis-cli as `user` with `password`, or as the unauthenticated `default` user (the service's)."""
        env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
        login: list[str] = []
        if user is not None:
            login = ["--user", user, "--no-auth-warning"]
            env["REDISCLI_AUTH"] = password or ""
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *login, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )

    @property
    def config(self) -> Path:
        return self.workdir / "redis.conf"

    def _write_config(self) -> None:
        text = "\n".join(
            [
                f"port {self.port}",
                "bind 127.0.0.1",
                "protected-mode yes",
                'save ""',
                "appendonly no",
                "set-proc-title no",  # the command line stays what the registry recorded
                f"dir {self.workdir}",
                f"user default on nopass {REDIS_APP_ACL}",
                f"user {REDIS_ADMIN} on >{self.password} ~* &* +@all",
                "",
            ]
        )
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if os.geteuid() == 0:
            os.chown(self.config, *_ids("redis"))

    def start(self) -> None:
        """redis-server on self.port; ServerError when the port is taken (by a foreign Redis or anything)."""
        if not self._start():
            raise ServerError(
                f"redis-server could not listen on {self.addr}: another process has the port (a foreign Redis "
                f"there would answer without this run's password, so it is never taken for this one); "
                f"log:\n{self._tail()}"
            )

    def start_on_free_port(self) -> None:
        """Start on self.port, or on another free port when that one is taken by the time it binds."""
        for _ in range(PORT_ATTEMPTS):
            if self._start():
                return
            self.port = free_port()
        raise ServerError(f"redis-server found its port taken {PORT_ATTEMPTS} times; log:\n{self._tail()}")

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def _tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _start(self) -> bool:
        if os.geteuid() == 0:
            os.chown(self.workdir, *_ids("redis"))
        self._write_config()
        self.log.unlink(missing_ok=True)  # this start's lines only: they say whether the port was taken
        self.server = spawned.start(
            "redis",
            ["redis-server", str(self.config)],
            log=self.log,
            workdir=self.workdir,
            cwd=self.workdir,
            **as_user("redis"),
        )
        self.proc = self.server.popen
        server = self.server

        def its_own() -> bool:
            """The answer is this run's server: authenticated as `snipcheck`, and INFO names its pid."""
            if (why := server.died()) is not None:
                raise waiting.Abort(why)
            try:
                whoami = self.run_cli("ACL", "WHOAMI", user=REDIS_ADMIN, password=self.password, timeout=2)
                if whoami.stdout.strip() != REDIS_ADMIN:
                    return False  # not up yet, or a foreign Redis (it fails AUTH): the process check decides
                info_out = self.run_cli("INFO", "server", user=REDIS_ADMIN, password=self.password, timeout=2)
            except subprocess.TimeoutExpired:
                return False  # something else holds the port and does not speak Redis
            info = dict(line.split(":", 1) for line in info_out.stdout.splitlines() if ":" in line)
            pid = info.get("process_id", "").strip()
            if pid != str(server.pid):
                raise ServerError(f"{self.addr} is answered by redis-server pid {pid}, not this run's {server.pid}")
            return True

        what = f"this run's redis-server to answer on {self.addr}"
        return _wait_started(self, server, its_own, 15, what, "redis-server")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=15)
        self.server = self.proc = None


def _ids(user: str) -> tuple[int, int]:
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


@dataclass
class Binary:
    path: Path
    size: int
    stripped_size: int


@dataclass
class App:
    proc: subprocess.Popen
    port: int
    metrics_port: int
    stdout: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, port: int | None = None, timeout: float = 5) -> tuple[int, dict, bytes]:
        url = f"http://127.0.0.1:{port or self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def logs(self) -> list[dict]:
        out = []
        for line in self.stdout.read_text().splitlines():
            if line.strip():
                out.append(json.loads(line))  # every stdout line must be JSON
        return out

    def stderr(self) -> str:
        return self.stdout.with_suffix(".stderr").read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def app_env(postgres: Postgres, redis: Redis, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env.update(
        {
            "ENV": "test",
            "LOG_LEVEL": "info",
            "PORT": str(free_port()),
            "METRICS_PORT": str(free_port()),
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(postgres.port),
            "DB_USER": DB_USER,
            "DB_PASSWORD": DB_PASSWORD,
            "DB_NAME": DB_NAME,
            "DB_SSLMODE": "disable",
            "REDIS_ADDR": redis.addr,
            "CACHE_TTL": "30s",
        }
    )
    env.update(overrides)
    return env


def _wait_started(owner: Any, server: Any, ready: Callable[[], bool], timeout: float, what: str, name: str) -> bool:
    """Wait until `ready()`; False (server stopped) when its port was taken meanwhile — the caller starts it
    again on another — else ServerError; the server is stopped on any failure."""
    try:
        waiting.until(ready, timeout=timeout, what=what)
    except waiting.Abort as exc:
        owner.stop()
        if spawned.port_taken(server.tail(50)):
            return False
        raise ServerError(f"{name} did not start: {exc}") from None
    except BaseException:
        owner.stop()
        raise
    return True
