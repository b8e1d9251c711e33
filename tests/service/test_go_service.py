"""The chapter's Go service (snippets/myapp) against real PostgreSQL and Redis.

Go unit tests run with -race per package; the process tests build the binary with
-ldflags -X and drive it over HTTP, signals and its exit codes.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from myapp_harness import (
    BUILD_ARGS,
    MYAPP,
    USERS_KEY,
    App,
    Binary,
    Postgres,
    Redis,
    app_env,
    free_port,
    wait_until,
)

from snipcheck.harness import goenv

# Results are recorded per snippet by tests/service/conftest.py from each test's
# @pytest.mark.covers(...) list (one test proves several files), as check "go-test".
pytestmark = [pytest.mark.service, pytest.mark.check("go-test")]

MAIN = "myapp/cmd/server/main.go"
CONFIG = "myapp/internal/config/config.go"
HEALTH = "myapp/internal/health/health.go"
HANDLER = "myapp/internal/handler/handler.go"
POSTGRES_GO = "myapp/internal/storage/postgres.go"
REDIS_GO = "myapp/internal/storage/redis.go"
METRICS = "myapp/internal/metrics/metrics.go"
MIDDLEWARE = "myapp/internal/middleware/middleware.go"
INIT_SQL = "myapp/scripts/init.sql"
GOMOD = ("myapp/go.mod", "myapp/go.sum")


def _go_packages() -> list:
    """One parameter per Go package, covering every .go file in it plus go.mod/go.sum."""
    params = []
    for pkg_dir in sorted({p.parent for p in MYAPP.glob("**/*.go")}):
        files = sorted(f"myapp/{p.relative_to(MYAPP).as_posix()}" for p in pkg_dir.glob("*.go"))
        rel = "./" + pkg_dir.relative_to(MYAPP).as_posix()
        covers = [*files, *GOMOD]
        if rel == "./internal/storage":
            covers.append(INIT_SQL)  # its tests read the seeded users
        params.append(pytest.param(rel, id=rel, marks=pytest.mark.covers(*covers)))
    return params


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pkg", _go_packages())
def test_go_test_race(pkg: str, postgres: Postgres, redis: Redis) -> None:
    env = goenv.toolchain_env(MYAPP_TEST_DATABASE_URL=postgres.url, MYAPP_TEST_REDIS_ADDR=redis.addr)
    res = subprocess.run(
        ["go", "test", "-race", "-count=1", "-json", *goenv.TEST_EXEC, pkg],
        cwd=MYAPP,
        env=env,
        capture_output=True,
        text=True,
        timeout=580,
    )
    events = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    output = "".join(e.get("Output", "") for e in events)
    assert res.returncode == 0, f"go test -race {pkg} failed:\n{output[-6000:]}\n{res.stderr[-2000:]}"
    tests = {e["Test"]: e["Action"] for e in events if e.get("Test") and e.get("Action") in ("pass", "fail", "skip")}
    skipped = sorted(name for name, action in tests.items() if action == "skip")
    assert not skipped, f"{pkg}: tests skipped although the servers are up: {skipped}\n{output[-3000:]}"


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, HEALTH, POSTGRES_GO, REDIS_GO, INIT_SQL)
def test_readiness_with_both_dependencies_up(start_app, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis))
    code, headers, body = app.get("/health/ready")
    doc = json.loads(body)
    assert code == 200, doc
    assert doc["status"] == "ok"
    assert doc["checks"] == {"postgres": "ok", "redis": "ok"}
    assert headers["Content-Type"] == "application/json"


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, HEALTH, REDIS_GO, HANDLER)
def test_readiness_names_redis_while_it_is_down(start_app, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis))
    assert app.get("/health/ready")[0] == 200
    redis.stop()
    try:
        code, _, body = app.get("/health/ready")
        doc = json.loads(body)
        assert code == 503, doc
        assert doc["status"] == "unavailable"
        assert doc["checks"]["postgres"] == "ok"
        assert doc["checks"]["redis"].startswith("error: "), doc
        # The API degrades to the database instead of failing.
        code, headers, body = app.get("/api/v1/users")
        assert code == 200 and headers["X-Cache"] == "miss"
        assert app.get("/health/live")[0] == 200, "liveness must not depend on Redis"
    finally:
        redis.start()
    wait_until(lambda: app.get("/health/ready")[0] == 200, 15, "readiness 200 after Redis returned")
    # go-redis's own messages go through slog too: stdout is all JSON, stderr stays empty.
    assert any(line["msg"] == "redis client" for line in app.logs())
    assert app.stderr() == ""


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, HEALTH, POSTGRES_GO)
def test_readiness_names_postgres_when_unreachable(start_app, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis, DB_PORT=str(free_port())))
    code, _, body = app.get("/health/ready")
    doc = json.loads(body)
    assert code == 503, doc
    assert doc["checks"]["postgres"].startswith("error: ") and doc["checks"]["redis"] == "ok"
    assert app.get("/health/live")[0] == 200, "the server starts and stays live without its database"


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, HANDLER, POSTGRES_GO, REDIS_GO, INIT_SQL)
def test_users_from_database_then_from_cache(start_app, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis, CACHE_TTL="45s"))
    redis.cli("DEL", USERS_KEY)

    code, headers, first = app.get("/api/v1/users")
    assert code == 200 and headers["X-Cache"] == "miss", headers
    users = json.loads(first)["users"]
    assert [u["email"] for u in users] == ["alice@example.com", "bob@example.com"]
    assert {u["name"] for u in users} == {"Alice", "Bob"}
    assert all(len(u["id"]) == 36 and u["created_at"] for u in users)

    ttl = int(redis.cli("TTL", USERS_KEY))
    assert 0 < ttl <= 45, f"cache key TTL {ttl}, want CACHE_TTL=45s"

    code, headers, second = app.get("/api/v1/users")
    assert code == 200 and headers["X-Cache"] == "hit", headers
    assert second == first


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, METRICS, MIDDLEWARE)
def test_version_metrics_and_request_logs(start_app, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis))
    code, headers, body = app.get("/version")
    assert code == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["version"] == BUILD_ARGS["VERSION"]
    assert doc["commit"] == BUILD_ARGS["COMMIT"]
    assert doc["build_time"] == BUILD_ARGS["BUILD_TIME"]
    assert doc["go"].startswith("go1.26")

    assert app.get("/nope")[0] == 404
    assert app.get("/metrics")[0] == 404, "metrics must not be on the API port"
    code, _, metrics = app.get("/metrics", port=app.metrics_port)
    text = metrics.decode()
    assert code == 200
    assert 'http_requests_total{method="GET",route="/version",status="200"} 1' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert 'http_request_duration_seconds_bucket{method="GET",route="/version",le="0.005"}' in text
    assert f'myapp_build_info{{commit="{BUILD_ARGS["COMMIT"]}",version="{BUILD_ARGS["VERSION"]}"}} 1' in text

    logs = app.logs()  # every stdout line is JSON
    start = next(line for line in logs if line["msg"] == "starting")
    assert start["version"] == BUILD_ARGS["VERSION"] and start["gomaxprocs"] >= 1
    assert "gomemlimit" in start
    requests = [line for line in logs if line["msg"] == "request"]
    version = [r for r in requests if r["path"] == "/version"]
    assert len(version) == 1, requests
    assert version[0]["method"] == "GET" and version[0]["status"] == 200
    assert isinstance(version[0]["duration_ms"], (int, float))
    assert any(r["path"] == "/nope" and r["status"] == 404 for r in requests)


@pytest.mark.timeout(60)
@pytest.mark.covers(MAIN, CONFIG, HEALTH)
def test_health_flag_probes_configured_port(start_app, server_binary: Binary, postgres: Postgres, redis: Redis) -> None:
    app: App = start_app(app_env(postgres, redis))

    def probe(port: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(server_binary.path), "-health"], env={"PORT": port}, capture_output=True, text=True, timeout=10
        )

    ok = probe(str(app.port))
    assert ok.returncode == 0, ok.stderr
    dead = probe(str(free_port()))
    assert dead.returncode == 1 and "unhealthy" in dead.stderr
    bad = probe("not-a-port")
    assert bad.returncode == 1 and "PORT" in bad.stderr
    # Probing must not start a server or print log lines.
    assert ok.stdout == "" and dead.stdout == ""


@pytest.mark.timeout(60)
@pytest.mark.covers(MAIN, CONFIG)
def test_bad_config_exits_with_one_clear_log_line(server_binary: Binary) -> None:
    res = subprocess.run(
        [str(server_binary.path)], env={"PORT": "http", "LOG_LEVEL": "loud"}, capture_output=True, text=True, timeout=10
    )
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stdout.splitlines()
    assert len(lines) == 1, lines
    line = json.loads(lines[0])
    assert line["level"] == "ERROR" and line["msg"] == "invalid configuration"
    for what in ('PORT="http"', 'LOG_LEVEL="loud"', "DB_PASSWORD is required"):
        assert what in line["error"], line


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


@pytest.mark.timeout(120)
@pytest.mark.covers(MAIN, HEALTH, HANDLER, POSTGRES_GO, INIT_SQL)
def test_sigterm_drains_in_flight_request(start_app, postgres: Postgres, redis: Redis, measure: dict[str, Any]) -> None:
    """A request blocked on a table lock is in flight when SIGTERM arrives: readiness
    turns 503, new connections are refused, the request still completes, exit 0."""
    app: App = start_app(app_env(postgres, redis, SHUTDOWN_DELAY="1s", SHUTDOWN_TIMEOUT="8s"))
    redis.cli("DEL", USERS_KEY)

    locker = postgres.lock_users()
    try:
        reply: dict = {}

        def slow_request() -> None:
            try:
                with urllib.request.urlopen(f"{app.base}/api/v1/users", timeout=30) as resp:
                    reply.update(code=resp.status, cache=resp.headers["X-Cache"], body=resp.read())
            except (urllib.error.URLError, OSError) as exc:
                reply["error"] = repr(exc)

        client = threading.Thread(target=slow_request)
        client.start()
        postgres.wait_for_lock_waiter()

        t0 = time.monotonic()
        app.proc.send_signal(signal.SIGTERM)
        wait_until(
            lambda: any(line.get("msg") == "shutdown started" for line in app.logs()), 5, '"shutdown started" log line'
        )
        code, _, body = app.get("/health/ready")
        assert code == 503 and json.loads(body)["status"] == "shutting_down"
        wait_until(lambda: _refused(app.port), 5, "new connections to be refused")
        assert app.proc.poll() is None and client.is_alive(), "in-flight request was not waited for"

        locker.stdin.write("COMMIT;\n")
        locker.stdin.flush()
        client.join(timeout=15)
        assert reply.get("code") == 200 and reply.get("cache") == "miss", reply
        assert len(json.loads(reply["body"])["users"]) == 2
        assert app.proc.wait(timeout=10) == 0
        measure["shutdown_with_inflight_s"] = round(time.monotonic() - t0, 3)
    finally:
        if locker.poll() is None:
            locker.stdin.close()  # type: ignore[union-attr]
            locker.wait(timeout=10)

    msgs = [line["msg"] for line in app.logs()]
    assert msgs.index("shutdown started") < msgs.index("server stopped") == len(msgs) - 1, msgs
    started = next(line for line in app.logs() if line["msg"] == "shutdown started")
    assert started["cause"] == "terminated signal received" and started["timeout"] == "8s"


@pytest.mark.timeout(60)
@pytest.mark.covers(MAIN, CONFIG)
def test_shutdown_timeout_bounds_the_wait(start_app, postgres: Postgres, redis: Redis) -> None:
    """With a request stuck longer than SHUTDOWN_TIMEOUT the process gives up in time (exit 1)."""
    app: App = start_app(app_env(postgres, redis, SHUTDOWN_TIMEOUT="1s"))
    redis.cli("DEL", USERS_KEY)
    locker = postgres.lock_users()
    try:

        def stuck_request() -> None:
            with contextlib.suppress(OSError):  # the server drops it when the timeout expires
                app.get("/api/v1/users", timeout=30)

        client = threading.Thread(target=stuck_request, daemon=True)
        client.start()
        postgres.wait_for_lock_waiter()
        t0 = time.monotonic()
        app.proc.send_signal(signal.SIGTERM)
        code = app.proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        locker.stdin.write("ROLLBACK;\n")  # type: ignore[union-attr]
        locker.stdin.close()  # type: ignore[union-attr]
        locker.wait(timeout=10)
    assert code == 1
    assert 0.9 <= elapsed < 5, f"exited after {elapsed:.2f}s with SHUTDOWN_TIMEOUT=1s"
    failed = [line for line in app.logs() if line["msg"] == "server failed"]
    assert failed and "did not finish in 1s" in failed[0]["error"]


@pytest.mark.timeout(30)
@pytest.mark.covers(MAIN)
def test_binary_size_measured(server_binary: Binary, measure: dict[str, Any]) -> None:
    measure.update(binary_bytes=server_binary.size, binary_stripped_bytes=server_binary.stripped_size)
    assert server_binary.stripped_size < server_binary.size
    assert Path(server_binary.path).exists()
