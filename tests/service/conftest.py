"""Fixtures for the service tier (see myapp_harness.py); results are recorded by tests/conftest.py."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from myapp_harness import (
    BUILD_ARGS,
    DB_NAME,
    DB_PASSWORD,
    DB_USER,
    MYAPP,
    PG_BIN,
    App,
    Binary,
    Postgres,
    Redis,
    as_postgres_user,
    free_port,
    require,
    wait_until,
)

from snipcheck import goenv


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    require(
        (PG_BIN / "postgres").exists() and (PG_BIN / "psql").exists(),
        f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)",
    )
    workdir = Path(tempfile.mkdtemp(prefix="myapp-pg-"))
    as_pg = as_postgres_user()
    if as_pg:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    data, log = workdir / "data", workdir / "postgres.log"
    pwfile = workdir / "pw"
    pwfile.write_text(DB_PASSWORD + "\n")
    if as_pg:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    port = free_port()
    pg = Postgres(port=port, workdir=workdir, log=log)
    try:
        subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                DB_USER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            **as_pg,
        )
        subprocess.run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir}",
                "start",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=90,
            **as_pg,
        )
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", DB_USER, DB_NAME],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PGPASSWORD": DB_PASSWORD},
        )
        res = subprocess.run(
            pg.psql_args("-f", str(MYAPP / "scripts" / "init.sql")),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": DB_PASSWORD},
        )
        assert res.returncode == 0, f"scripts/init.sql failed:\n{res.stderr}"
        yield pg
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"PostgreSQL did not start: {exc.stderr}\n{log.read_text() if log.exists() else ''}")
    finally:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            **as_pg,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    require(
        shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None,
        "redis-server not installed (apt-get install redis-server)",
    )
    workdir = Path(tempfile.mkdtemp(prefix="myapp-redis-"))
    r = Redis(port=free_port(), workdir=workdir)
    try:
        r.start()
        yield r
    finally:
        r.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def server_binary(tmp_path_factory: pytest.TempPathFactory) -> Binary:
    require(shutil.which("go") is not None, "the go command is not on PATH (install Go 1.26)")
    out = tmp_path_factory.mktemp("bin")
    xflags = " ".join(
        f"-X main.{k}={v}"
        for k, v in {
            "Version": BUILD_ARGS["VERSION"],
            "Commit": BUILD_ARGS["COMMIT"],
            "BuildTime": BUILD_ARGS["BUILD_TIME"],
        }.items()
    )
    sizes = {}
    for name, ldflags in (("server-full", xflags), ("server", f"-s -w {xflags}")):
        res = subprocess.run(
            ["go", "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(out / name), "./cmd/server"],
            cwd=MYAPP,
            capture_output=True,
            text=True,
            timeout=600,
            env=goenv.toolchain_env(CGO_ENABLED="0"),
        )
        assert res.returncode == 0, f"go build failed:\n{res.stderr}"
        sizes[name] = (out / name).stat().st_size
    return Binary(path=out / "server", size=sizes["server-full"], stripped_size=sizes["server"])


@pytest.fixture
def start_app(server_binary: Binary, tmp_path: Path):
    """Start the server binary with the given env; waits for /health/live; SIGTERM on teardown."""
    apps: list[App] = []

    def _start(env: dict[str, str], wait: bool = True) -> App:
        log = tmp_path / f"app{len(apps)}.jsonl"
        proc = subprocess.Popen(
            [str(server_binary.path)], env=env, stdout=log.open("w"), stderr=log.with_suffix(".stderr").open("w")
        )
        app = App(proc=proc, port=int(env["PORT"]), metrics_port=int(env["METRICS_PORT"]), stdout=log, env=env)
        apps.append(app)
        if wait:

            def live() -> bool:
                assert proc.poll() is None, (
                    f"server exited {proc.returncode}:\n{log.read_text()}{log.with_suffix('.stderr').read_text()}"
                )
                try:
                    return app.get("/health/live", timeout=1)[0] == 200
                except OSError:
                    return False

            wait_until(live, 20, "/health/live")
        return app

    yield _start
    for app in apps:
        app.stop(timeout=15)
