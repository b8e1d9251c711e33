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
    ServerError,
    as_postgres_user,
    free_port,
    require,
    wait_until,
)

from snipcheck.harness import goenv, saferm, spawned, waiting


@pytest.fixture(scope="session", autouse=True)
def reap_killed_runs() -> None:
    """Stop what a killed run's service tier left running (snipcheck.harness.spawned), before starting our own."""
    spawned.reap_and_warn()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    require(
        (PG_BIN / "postgres").exists() and (PG_BIN / "psql").exists(),
        f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)",
    )
    workdir = Path(tempfile.mkdtemp(prefix="myapp-pg-"))  # 0700: its Unix socket (trust) is private
    as_pg = as_postgres_user()
    if as_pg:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    data = workdir / "data"
    pwfile = workdir / "pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(DB_PASSWORD + "\n")
    if as_pg:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    pg: Postgres | None = None
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
        pwfile.unlink()
        pg = Postgres.start(workdir, data)
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", DB_USER, DB_NAME],
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
        log = workdir / "postgres.log"
        pytest.fail(f"PostgreSQL did not start: {exc.stderr}\n{log.read_text() if log.exists() else ''}")
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        if pg is not None:
            pg.stop()
        saferm.remove_tree(workdir)


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    require(
        shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None,
        "redis-server not installed (apt-get install redis-server)",
    )
    workdir = Path(tempfile.mkdtemp(prefix="myapp-redis-"))
    r = Redis(port=free_port(), workdir=workdir)
    try:
        r.start_on_free_port()
        yield r
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        r.stop()
        saferm.remove_tree(workdir)


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
    """Start the server binary with the given env; waits for /health/live; SIGTERM on teardown. When its
    PORT or METRICS_PORT was taken by the time it bound (free_port only checks when asked), it is started
    again on other free ports. It gets SIGTERM from the kernel if this run dies (parent-death signal)."""
    apps: list[App] = []

    def _launch(env: dict[str, str]) -> App:
        log = tmp_path / f"app{len(apps)}.jsonl"
        proc = subprocess.Popen(
            [str(server_binary.path)],
            env=env,
            stdout=log.open("w"),
            stderr=log.with_suffix(".stderr").open("w"),
            preexec_fn=spawned.pdeathsig(),
        )
        app = App(proc=proc, port=int(env["PORT"]), metrics_port=int(env["METRICS_PORT"]), stdout=log, env=env)
        apps.append(app)
        return app

    def _wait_live(app: App) -> None:
        def live() -> bool:
            if app.proc.poll() is not None:
                raise waiting.Abort(f"server exited {app.proc.returncode}:\n{app.stdout.read_text()}{app.stderr()}")
            try:
                return app.get("/health/live", timeout=1)[0] == 200
            except OSError:
                return False

        wait_until(live, 20, "/health/live")

    def _start(env: dict[str, str], wait: bool = True) -> App:
        for _ in range(3):
            app = _launch(env)
            if not wait:
                return app
            try:
                _wait_live(app)
                return app
            except waiting.Abort as exc:
                if not spawned.port_taken(str(exc)):
                    raise AssertionError(str(exc)) from None
                env = {**env, "PORT": str(free_port()), "METRICS_PORT": str(free_port())}
        raise AssertionError(f"the server found its ports taken 3 times:\n{app.stderr()}{app.stdout.read_text()}")

    yield _start
    for app in apps:
        app.stop(timeout=15)
