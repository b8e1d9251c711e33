"""The application stack behaves the way the Compose chapter says (issue 8): dependencies by service
name, the users cache in Redis, readiness following Redis, `restart: unless-stopped`, and a named
volume that keeps the database (and runs the init script once) across `down` and `up`.

Applies to compose snippets whose manifest entry says `compose: {behaviour: app-stack}`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from compose_stack import Stack, docker_time, postgres_ready_at

from snipcheck.harness import procid, waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.model.manifest import by_check
from support import http_get, require

pytestmark = [pytest.mark.compose]

APP_STACKS = [s for s in by_check("compose-up") if (s.settings.get("compose") or {}).get("behaviour") == "app-stack"]
UP = ("up", "-d", "--wait", "--wait-timeout", "240", "--pull", "never")


def _url(stack: Stack, path: str, port: int = 8080) -> str:
    return f"http://127.0.0.1:{stack.port('app', port)}{path}"


def _wait_status(stack: Stack, path: str, want: int, seconds: float) -> tuple[float, str]:
    """Seconds until the app answers `want` on `path`. The published port is looked up on every try:
    while a container restarts it has none."""

    def answers() -> str:
        status, body = http_get(_url(stack, path), timeout=5)
        if status != want:
            raise OSError(f"HTTP {status}: {body[:300]}")
        return body or " "

    waited = waiting.until(
        answers,
        timeout=seconds,
        what=f"{path} to answer {want}",
        interval=0.5,
        retry_on=(OSError, dk.DockerError),
        details=lambda: dk.describe_container(_cid(stack, "app")),
    )
    return waited.seconds, waited.value


def _cid(stack: Stack, service: str) -> str:
    return stack.compose("ps", "-q", service, timeout=30).stdout.strip()


def _psql(stack: Stack, sql: str) -> str:
    res = dk.docker("exec", _cid(stack, "postgres"), "psql", "-U", "myapp", "-d", "myapp", "-tAc", sql, timeout=60)
    return res.stdout.strip()


@pytest.mark.check("compose-up")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", APP_STACKS, ids=[s.path for s in APP_STACKS], indirect=True)
def test_app_stack_behaves_as_the_text_says(stack: Stack, measure: dict) -> None:
    start = time.monotonic()
    stack.compose(*UP, "--build", timeout=900)
    measure["seconds_to_healthy"] = round(time.monotonic() - start, 1)

    # the app started only after its dependencies were healthy (depends_on: condition: service_healthy)
    app_started = docker_time(dk.inspect(_cid(stack, "app"), "container")["State"]["StartedAt"])
    db_ready = postgres_ready_at(_cid(stack, "postgres"))
    measure["app_started_after_db_ready_s"] = round((app_started - db_ready).total_seconds(), 2)
    assert db_ready < app_started, f"app started at {app_started}, before PostgreSQL was ready ({db_ready})"

    # readiness reaches both dependencies by service name
    status, body = http_get(_url(stack, "/health/ready"))
    assert status == 200 and "postgres" in body and "redis" in body, body

    # seeded users, first from PostgreSQL, then from the Redis cache
    first = _cache_header(_url(stack, "/api/v1/users"))
    second = _cache_header(_url(stack, "/api/v1/users"))
    measure["x_cache"] = [first, second]
    assert (first, second) == ("miss", "hit"), f"X-Cache was {first!r} then {second!r}"

    # Redis down -> readiness 503 naming redis; Redis back -> 200
    stack.compose("stop", "redis", timeout=60)
    waited, body = _wait_status(stack, "/health/ready", 503, 30)
    assert "redis" in body, body
    stack.compose("start", "redis", timeout=60)
    back, _ = _wait_status(stack, "/health/ready", 200, 60)
    measure.update(seconds_to_503_after_redis_stop=round(waited, 1), seconds_to_200_after_redis_start=round(back, 1))

    # restart: unless-stopped brings a crashed app back (the process is killed from outside, like a crash)
    app = _cid(stack, "app")
    before = dk.inspect(app, "container")["RestartCount"]
    _crash(app)
    waiting.until(
        lambda: dk.inspect(app, "container")["RestartCount"] != before,
        timeout=60,
        what="the killed app to be restarted",
        interval=0.5,
        details=lambda: dk.describe_container(app),
    )
    _wait_status(stack, "/health/live", 200, 60)
    measure["restart_count"] = dk.inspect(app, "container")["RestartCount"]

    # the named volume keeps the data across down/up; the init script does not run again
    marker = f"volume-{dk.RUN_ID}@example.com"
    _psql(stack, f"INSERT INTO users (email, name) VALUES ('{marker}', 'volume test')")
    seeded = _psql(stack, "SELECT count(*) FROM users WHERE email = 'alice@example.com'")
    stack.compose("down", "-t", "10", timeout=180)  # no -v: volumes stay
    stack.compose(*UP, timeout=600)
    assert _psql(stack, f"SELECT count(*) FROM users WHERE email = '{marker}'") == "1", "the row did not survive"
    again = _psql(stack, "SELECT count(*) FROM users WHERE email = 'alice@example.com'")
    measure.update(seeded_alice_rows=[seeded, again])
    assert seeded == again == "1", f"the init script ran again: alice rows {seeded} -> {again}"


def _crash(cid: str) -> None:
    """SIGKILL the container's main process from the host, as a crash would end it — only once that pid is
    proven to be this container's on this machine (M3 of the security review): not 0 or 1 (the pid of a
    container between restarts is 0, and kill(0) is our own process group), its /proc/PID/cgroup names
    the container's id (not so with a remote or VM engine, whose pids are another machine's), and it is
    still the same process (boot id, pid, start time) when signalled. As root with os.kill, else with
    `sudo -n kill` (GitHub's runner user has passwordless sudo)."""
    info = dk.inspect(cid, "container")
    pid, full_id = int(info["State"]["Pid"]), info["Id"]
    assert pid > 1, f"the container has no running process to crash (State.Pid {pid})"
    ident = procid.ProcId.of(pid)
    try:
        cgroups = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        cgroups = ""
    require(
        ident is not None and full_id in cgroups,
        f"pid {pid} of container {cid[:12]} is not a process of this machine in that container's cgroup "
        "(a remote or VM engine?): the crash test kills it from the host",
    )
    assert ident is not None
    if not ident.is_alive():
        pytest.fail(f"container {cid[:12]}'s process {pid} ended before it could be signalled")
    if os.geteuid() == 0:
        os.kill(pid, signal.SIGKILL)
        return
    require(
        subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0,
        "killing the container's process from the host needs root: run as root or with passwordless sudo",
    )
    subprocess.run(["sudo", "-n", "kill", "-KILL", str(pid)], check=True, capture_output=True, timeout=30)


def _cache_header(url: str) -> str | None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback only)
        json.loads(resp.read())
        return resp.headers.get("X-Cache")
