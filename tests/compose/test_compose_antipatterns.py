"""The chapter's "❌" compose files misbehave exactly the way the text says (issue 8)."""

from __future__ import annotations

import pytest
from compose_stack import SOURCES, Stack, docker_time, postgres_ready_at

from snipcheck.harness import waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.model.manifest import by_check

pytestmark = [pytest.mark.compose]

CASES = by_check("compose-antipattern")


def depends_on_no_healthcheck(stack: Stack, measure: dict) -> None:
    """`depends_on` without a condition starts the app before PostgreSQL accepts connections."""
    settings = stack.snippet.settings
    app, db = settings.get("app_service", "app"), settings.get("db_service", "postgres")
    stack.compose("up", "-d", "--build", "--pull", "never", timeout=900)
    db_id = stack.compose("ps", "-q", db, timeout=30).stdout.strip()
    app_id = stack.compose("ps", "-q", "-a", app, timeout=30).stdout.strip()
    waiting.until(
        lambda: dk.docker("exec", db_id, "pg_isready", "-h", "127.0.0.1", timeout=30, check=False).returncode == 0,
        timeout=120,
        what="PostgreSQL to accept connections",
        interval=0.5,
        details=lambda: dk.describe_container(db_id),
    )
    db_ready = postgres_ready_at(db_id)
    app_started = docker_time(dk.inspect(app_id, "container")["State"]["StartedAt"])
    gap = (db_ready - app_started).total_seconds()
    measure.update(app_started_before_db_ready_s=round(gap, 2))
    assert gap > 0, (
        f"the app started {-gap:.2f}s after PostgreSQL was ready; the text says depends_on "
        f"without a condition does not wait for readiness"
    )


SCENARIOS = {"depends-on-no-healthcheck": depends_on_no_healthcheck}


@pytest.mark.check("compose-antipattern")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", CASES, ids=[s.path for s in CASES], indirect=True)
def test_compose_antipattern(stack: Stack, request: pytest.FixtureRequest, measure: dict) -> None:
    scenario = stack.snippet.settings.get("scenario")
    if scenario not in SCENARIOS:
        pytest.fail(f"{stack.snippet.where()}: scenario {scenario!r} is not one of {sorted(SCENARIOS)}", pytrace=False)
    measure.update(scenario=scenario, claim=stack.snippet.claim, image_sources=request.node.stash.get(SOURCES, {}))
    SCENARIOS[scenario](stack, measure)
