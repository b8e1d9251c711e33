"""The application stack behaves the way the Compose chapter says (issue 8): dependencies by service
name, the users cache in Redis, readiness following Redis, `restart: unless-stopped`, and a named
volume that keeps the database (and runs the init script once) across `down` and `up`.

Applies to compose snippets whose manifest entry says `compose: {behaviour: app-stack}`.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from compose_stack import Stack, docker_time, postgres_ready_at

from snipcheck import docker as dk
from snipcheck import waiting
from snipcheck.manifest import by_check
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
    require(os.geteuid() == 0, "killing the container's process from the host needs root (run the suite with sudo)")
    app = _cid(stack, "app")
    before = dk.inspect(app, "container")["RestartCount"]
    os.kill(dk.inspect(app, "container")["State"]["Pid"], signal.SIGKILL)
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


def _cache_header(url: str) -> str | None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback only)
        json.loads(resp.read())
        return resp.headers.get("X-Cache")
