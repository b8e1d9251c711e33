"""The service tier's PostgreSQL and Redis admit no other local user, and the harness talks to its own.

Any local user can connect to a port on 127.0.0.1. PostgreSQL asks for a password made per run; its
`trust` socket is in a 0700 directory. Redis gives the unauthenticated user only what the chapter's
service does (GET/SET/PING on `myapp:*`); the harness's user needs a password made per run. A server of
someone else's on the port, or a port taken meanwhile, is never mistaken for this run's server.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from myapp_harness import (
    DB_NAME,
    DB_PASSWORD,
    DB_USER,
    PG_BIN,
    REDIS_ADMIN,
    Postgres,
    Redis,
    ServerError,
    as_postgres_user,
    free_port,
)

from snipcheck.harness import saferm, spawned
from snipcheck.harness.procid import ProcId

pytestmark = [pytest.mark.service, pytest.mark.timeout(120)]

HARNESS = Path(__file__).parents[1] / "myapp_harness.py"


def psql(pg: Postgres, *args: str, password: str | None, user: str = DB_USER) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [str(PG_BIN / "psql"), "-X", "-w", "-h", "127.0.0.1", "-p", str(pg.port), "-U", user, "-d", DB_NAME, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for pid {pid}")


# ---- PostgreSQL --------------------------------------------------------------------------------


def test_postgres_password_is_made_per_run() -> None:
    """A password written in the repository is everyone's."""
    assert DB_PASSWORD not in HARNESS.read_text(), "the PostgreSQL password is written in myapp_harness.py"
    assert len(DB_PASSWORD) >= 24


def test_postgres_refuses_tcp_clients_without_the_password(postgres: Postgres) -> None:
    ok = psql(postgres, "-tAc", "SELECT 1", password=DB_PASSWORD)
    assert ok.returncode == 0 and ok.stdout.strip() == "1", ok.stderr
    for password in (None, "s3cret p@ss", DB_PASSWORD + "x"):
        res = psql(postgres, "-tAc", "SELECT 1", password=password)
        assert res.returncode != 0, f"psql over TCP with password {password!r} was let in"
        assert "password" in res.stderr, res.stderr
    res = psql(postgres, "-tAc", "SELECT 1", password=DB_PASSWORD, user="postgres")
    assert res.returncode != 0, "role postgres logged in over TCP with the app's password"


@pytest.mark.root(reason="acting as another local user needs root; as a user, the 0700 directory is the user's own")
def test_postgres_socket_is_out_of_other_users_reach(postgres: Postgres) -> None:
    res = subprocess.run(
        ["runuser", "-u", "nobody", "--", str(PG_BIN / "psql"), "-X", "-w", "-h", str(postgres.workdir),
         "-p", str(postgres.port), "-U", DB_USER, "-d", DB_NAME, "-c", "SELECT 1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert res.returncode != 0, f"user nobody connected through the trust socket:\n{res.stdout}"
    assert "Permission denied" in res.stderr, res.stderr


def test_postgres_moves_off_a_port_taken_meanwhile() -> None:
    """The port free_port() gave is taken before postgres binds it: it starts on another one."""
    workdir = Path(tempfile.mkdtemp(prefix="myapp-pg-test-"))
    as_pg = as_postgres_user()
    if as_pg:
        os.chown(workdir, *_ids("postgres"))
    pg = None
    try:
        pwfile = workdir / "pw"
        pwfile.write_text(DB_PASSWORD + "\n")
        if as_pg:
            os.chown(pwfile, *_ids("postgres"))
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(workdir / "data"), "-U", DB_USER, f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--locale=C.UTF-8"],
            check=True, capture_output=True, text=True, timeout=120, **as_pg,
        )  # fmt: skip
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            taken = squatter.getsockname()[1]
            pg = Postgres.start(workdir, workdir / "data", first_port=taken)
            assert pg.port != taken  # and it answered with its own data directory (Postgres.start)
    finally:
        if pg is not None:
            pg.stop()
        saferm.remove_tree(workdir)


# ---- Redis -------------------------------------------------------------------------------------


def test_redis_gives_anonymous_clients_only_what_the_service_does(redis: Redis) -> None:
    anon = redis.run_cli
    assert anon("SET", "myapp:auth-test", "v").stdout.strip() == "OK"
    assert anon("GET", "myapp:auth-test").stdout.strip() == "v"
    assert anon("PING").stdout.strip() == "PONG"
    for command in (
        ["CONFIG", "GET", "dir"],
        ["CONFIG", "SET", "dir", "/etc"],
        ["FLUSHALL"],
        ["KEYS", "*"],
        ["GET", "elsewhere"],
        ["MODULE", "LIST"],
        ["ACL", "LIST"],
    ):
        out = anon(*command).stdout.strip()
        assert out.startswith("NOPERM"), f"an unauthenticated client ran {' '.join(command)}: {out!r}"


def test_redis_refuses_the_harness_user_without_its_password(redis: Redis) -> None:
    assert redis.cli("ACL", "WHOAMI") == REDIS_ADMIN
    for password in ("", "wrong", redis.password + "x"):
        res = redis.run_cli("AUTH", REDIS_ADMIN, password)
        assert res.stdout.strip().startswith("WRONGPASS"), res.stdout
        wrong = redis.run_cli("CONFIG", "GET", "dir", user=REDIS_ADMIN, password=password)
        assert wrong.stdout.strip().startswith("NOPERM"), wrong.stdout
    assert redis.server is not None
    assert redis.password not in redis.server.log.read_text(), "the password is in redis-server's log"
    cmdline = Path(f"/proc/{redis.server.pid}/cmdline").read_bytes().decode()
    assert redis.password not in cmdline, "the password is on redis-server's command line (ps shows it to all)"


@pytest.mark.root(reason="only a root run can start redis-server as the redis user (a user's run is unprivileged)")
def test_redis_runs_as_an_unprivileged_user(redis: Redis) -> None:
    assert redis.server is not None
    assert uid_of(redis.server.pid) == _ids("redis")[0], "redis-server runs as root"


@pytest.fixture
def foreign_redis(tmp_path: Path) -> Iterator[int]:
    """A Redis of someone else's (no password, default settings) on a free port: a process of this test."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=spawned.pdeathsig(),
    )
    try:
        probe = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "PING"]
        for _ in range(100):
            if subprocess.run(probe, capture_output=True, text=True).stdout.strip() == "PONG":
                break
            assert proc.poll() is None, "the foreign redis-server did not start"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def redis_workdir() -> Iterator[Path]:
    """Like the fixture's: under /tmp (as root, redis-server runs as `redis`, which cannot enter tmp_path)."""
    work = Path(tempfile.mkdtemp(prefix="myapp-redis-test-"))
    try:
        yield work
    finally:
        saferm.remove_tree(work)


def test_a_foreign_redis_on_the_port_is_not_taken_for_ours(foreign_redis: int, redis_workdir: Path) -> None:
    ours = Redis(port=foreign_redis, workdir=redis_workdir)
    try:
        with pytest.raises(ServerError, match="another process has the port"):
            ours.start()
    finally:
        ours.stop()


def test_redis_moves_off_a_port_taken_meanwhile(redis_workdir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        r = Redis(port=taken, workdir=redis_workdir)
        try:
            r.start_on_free_port()
            assert r.port != taken
            assert r.cli("ACL", "WHOAMI") == REDIS_ADMIN
        finally:
            r.stop()


# ---- both are recorded for the next run to reap ------------------------------------------------


def test_servers_are_recorded_with_this_run_as_owner(postgres: Postgres, redis: Redis) -> None:
    me = ProcId.of(os.getpid())
    for server in (postgres.server, redis.server):
        assert server is not None and server.record is not None and server.record.exists()
        record = json.loads(server.record.read_text())
        assert record["owner"] == str(me), record
        assert record["server"] == str(ProcId.of(server.pid)), record
        assert record["workdir"] in (str(postgres.workdir), str(redis.workdir)), record


def _ids(user: str) -> tuple[int, int]:
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid
