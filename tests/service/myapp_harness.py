"""Helpers for the service tier: real PostgreSQL 15 and Redis from Debian packages on
127.0.0.1 ephemeral ports in temporary directories, and the myapp binary as a process.

Kept out of conftest.py (unique module name) so test modules can import it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from snipcheck import waiting
from snipcheck.paths import SNIPPETS
from support import postgres_bin, require  # noqa: F401 (require re-exported: skip locally, fail with CI=true)

MYAPP = SNIPPETS / "myapp"
PG_BIN = postgres_bin()
DB_USER, DB_PASSWORD, DB_NAME = "myapp", "s3cret p@ss", "myapp"
BUILD_ARGS = {"VERSION": "1.2.3-test", "COMMIT": "abc1234", "BUILD_TIME": "2026-01-01T00:00:00Z"}
USERS_KEY = "myapp:users:v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    return waiting.until(pred, timeout=timeout, what=what, interval=interval).value


def as_postgres_user() -> dict:
    """initdb/postgres refuse to run as root: drop to the postgres user when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres"}


@dataclass
class Postgres:
    port: int
    workdir: Path
    log: Path

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

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        res = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10
        )
        return res.stdout.strip()

    def start(self) -> None:
        log = (self.workdir / "redis.log").open("a")
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: self.cli("ping") == "PONG", 15, "redis-server to answer PING")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None


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
