"""Every compose project boots with `up --wait`, answers the probes the text implies, and is torn
down with nothing left behind (issue 8). Settings: see tests/compose/conftest.py."""

from __future__ import annotations

import json
import time

import pytest
from compose_stack import SOURCES, Stack

from snipcheck import docker as dk
from snipcheck.manifest import by_check
from support import http_get

pytestmark = [pytest.mark.compose]

UP = by_check("compose-up")


def _leftovers(project: str) -> list[str]:
    flt = f"label=com.docker.compose.project={project}"
    left = []
    for kind, cmd in (
        ("container", ["ps", "-aq"]),
        ("network", ["network", "ls", "-q"]),
        ("volume", ["volume", "ls", "-q"]),
    ):
        ids = dk.docker(*cmd, "--filter", flt, timeout=30).stdout.split()
        left += [f"{kind} {i}" for i in ids]
    return left


@pytest.mark.check("compose-up")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", UP, ids=[s.path for s in UP], indirect=True)
def test_compose_project_boots_and_answers(stack: Stack, request: pytest.FixtureRequest, measure: dict) -> None:
    start = time.monotonic()
    res = stack.compose(
        "up", "-d", "--build", "--wait", "--wait-timeout", "240", "--pull", "never", timeout=900, check=False
    )
    measure["seconds_to_healthy"] = round(time.monotonic() - start, 1)
    measure["image_sources"] = request.node.stash.get(SOURCES, {})
    if res.returncode != 0:
        ps = stack.compose("ps", "-a", timeout=30, check=False).stdout
        logs = stack.compose("logs", "--no-color", "--tail", "60", timeout=60, check=False).stdout
        pytest.fail(
            f"`up --wait` failed for {stack.snippet.path}:\n{res.stderr[-3000:]}\n{ps}\n{logs[-6000:]}", pytrace=False
        )
    services = stack.compose("ps", "--format", "json", timeout=30).stdout
    rows = (
        [json.loads(line) for line in services.splitlines() if line.strip()]
        if not services.startswith("[")
        else json.loads(services)
    )
    measure["services"] = sorted(r["Service"] for r in rows)
    for probe in (stack.snippet.settings.get("compose") or {}).get("probes", []):
        url = f"http://127.0.0.1:{stack.port(probe['service'], probe['port'])}{probe['path']}"
        status, body = http_get(url, timeout=10)
        assert status == probe.get("status", 200), f"{url}: HTTP {status} {body[:300]}"
        if "contains" in probe:
            assert probe["contains"] in body, f"{url}: {probe['contains']!r} not in {body[:300]}"
    stack.compose("down", "-v", "--remove-orphans", "-t", "10", timeout=180)
    left = _leftovers(stack.project)
    assert not left, f"left behind after down -v: {left}"
