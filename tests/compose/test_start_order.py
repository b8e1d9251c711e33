"""The start order a ✅ compose file teaches is necessary, not a coincidence (issue 30, item 2).

`depends_on: {db: {condition: service_healthy}}` claims the app starts only once the database is
healthy. The test decides when that is: an override gates the dependency's healthcheck on a file the
test creates (`test -f GATE && <the file's own check>`), so the dependency is running, even accepting
connections, and still not healthy for as long as the test holds the gate. Proven:

- as written, the app stays `created` while the gate is closed and starts after the test opens it;
- weakened to `condition: service_started` (an override, the only change), the same check fails: the app
  starts while the gate is still closed.

No assertion depends on which container happens to be slower: the gate opens only when the test says.

Manifest setting: `compose.start_order: {service: app, waits_for: postgres}`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from compose_stack import Stack, docker_time

from snipcheck.harness import waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.model.manifest import by_check

pytestmark = [pytest.mark.compose]

CASES = [s for s in by_check("compose-up") if (s.settings.get("compose") or {}).get("start_order")]
GATE = "/tmp/snipcheck-start-gate"
HOLD_S = 5.0  # how long the test keeps a running dependency unhealthy


def _gate_override(stack: Stack, dest: Path, weaken: bool) -> None:
    order = stack.snippet.settings["compose"]["start_order"]
    app, dep = order["service"], order["waits_for"]
    svc = (stack.reader_config or {})["services"][dep]
    test = svc["healthcheck"]["test"]
    check = test[1] if test[0] == "CMD-SHELL" else " ".join(test[1:])
    services: dict = {
        dep: {
            "healthcheck": {
                "test": ["CMD-SHELL", f"test -f {GATE} && {check}"],
                "interval": "1s",
                "retries": 600,
                "start_period": "0s",
            }
        }
    }
    if weaken:
        services[app] = {"depends_on": {dep: {"condition": "service_started"}}}
    dest.write_text(yaml.safe_dump({"services": services}), encoding="utf-8")
    stack.files.append(dest)


def _container(stack: Stack, service: str) -> str:
    return stack.compose("ps", "-q", "-a", service, timeout=30).stdout.strip()


def started_before_the_gate(stack: Stack, measure: dict) -> bool:
    """Boot with the gate closed; hold it HOLD_S seconds after the dependency runs (or until the app has
    started); open it; True when the app started while the gate was closed."""
    order = stack.snippet.settings["compose"]["start_order"]
    app, dep = order["service"], order["waits_for"]
    up = threading.Thread(
        target=lambda: stack.compose("up", "-d", "--build", "--pull", "never", timeout=900, check=False), daemon=True
    )
    up.start()
    dep_id = ""

    def dependency_running() -> bool:
        nonlocal dep_id
        dep_id = _container(stack, dep)
        return bool(dep_id) and dk.inspect(dep_id, "container")["State"]["Running"]

    waiting.until(dependency_running, timeout=300, what=f"{dep} to run", interval=0.5)
    held_since = time.monotonic()
    app_id = ""
    while time.monotonic() - held_since < HOLD_S:
        app_id = app_id or _container(stack, app)
        if app_id and dk.inspect(app_id, "container")["State"]["StartedAt"][:4] not in ("0001", ""):
            break  # the app has started: no need to hold longer
        time.sleep(0.25)
    opened = datetime.now(UTC)
    dk.docker("exec", dep_id, "touch", GATE, timeout=30)
    up.join(timeout=600)
    app_id = app_id or _container(stack, app)
    waiting.until(
        lambda: dk.inspect(app_id, "container")["State"]["StartedAt"][:4] != "0001",
        timeout=300,
        what=f"{app} to start",
        interval=0.5,
    )
    started = docker_time(dk.inspect(app_id, "container")["State"]["StartedAt"])
    gap = round((started - opened).total_seconds(), 2)
    measure["app_started_after_gate_s"] = gap
    return gap < 0


@pytest.mark.check("compose-up")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", CASES, ids=[s.path for s in CASES], indirect=True)
def test_the_app_waits_for_a_healthy_dependency(stack: Stack, tmp_path: Path, measure: dict) -> None:
    _gate_override(stack, tmp_path / "gate.override.yaml", weaken=False)
    early = started_before_the_gate(stack, measure)
    measure["dependency_held_unhealthy_s"] = HOLD_S
    assert not early, (
        f"{stack.snippet.path}: the app started {-measure['app_started_after_gate_s']}s before its dependency "
        "was healthy, although depends_on says service_healthy"
    )
    stack.down_leaving_nothing()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", CASES, ids=[s.path for s in CASES], indirect=True)
def test_weakened_to_service_started_the_order_breaks(stack: Stack, tmp_path: Path, measure: dict) -> None:
    """The contrast that gives the test above its meaning."""
    _gate_override(stack, tmp_path / "gate.override.yaml", weaken=True)
    assert started_before_the_gate(stack, measure), (
        "with condition: service_started the app still waited for the gate: the start-order test cannot "
        "tell the two conditions apart"
    )
    stack.down_leaving_nothing()
