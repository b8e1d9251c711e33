"""scripts/github-runner/replay.py plays ci.yml's own steps as GitHub's runner user: its expression
reader gives what GitHub gives for the forms ci.yml uses, and every step of ci.yml (each shard, each
event) can be planned — an action the replay cannot play, or an expression it cannot read, fails here
rather than in a replay."""

from __future__ import annotations

import copy
import importlib.util
import sys
from typing import Any

import pytest
import yaml

from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

_spec = importlib.util.spec_from_file_location("replay", ROOT / "scripts" / "github-runner" / "replay.py")
assert _spec is not None and _spec.loader is not None
replay = importlib.util.module_from_spec(_spec)
sys.modules["replay"] = replay
_spec.loader.exec_module(replay)


def _ctx(**matrix: Any) -> dict[str, Any]:
    return {"matrix": matrix, "github": {"event_name": "pull_request"}, "_success": True}


@pytest.mark.parametrize(
    ("expr", "matrix", "expected"),
    [
        ("matrix.shard == 'cluster' && '1' || '0'", {"shard": "cluster"}, "1"),
        ("matrix.shard == 'cluster' && '1' || '0'", {"shard": "lint"}, "0"),
        ("matrix.as_root && '1' || '0'", {"shard": "lint"}, "0"),
        ("matrix.shard == 'images' || matrix.shard == 'compose'", {"shard": "compose"}, True),
        ("always() && matrix.shard == 'browser'", {"shard": "lint"}, False),
        ("github.event_name", {}, "pull_request"),
        ("!(matrix.shard != 'x')", {"shard": "x"}, True),
    ],
)
def test_expressions_read_as_github_reads_them(expr: str, matrix: dict[str, Any], expected: Any) -> None:
    assert replay.evaluate(expr, _ctx(**matrix)) == expected


def test_a_failed_step_stops_the_steps_without_always() -> None:
    failed = {**_ctx(shard="browser"), "_success": False}
    assert not replay.condition({"run": "x"}, failed)
    assert replay.condition({"if": "always()", "run": "x"}, failed)
    assert not replay.condition({"if": "matrix.shard == 'browser'", "run": "x"}, failed)


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_every_step_of_ci_yml_can_be_replayed(event: str) -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    steps = replay.plan(workflow, event)
    runs = [s for s in steps if "bash scripts/test.sh" in s and ": run " in s]
    assert len(runs) == 5, steps  # one per shard
    assert any(s.startswith("report") for s in steps), steps


def test_an_action_the_replay_cannot_play_is_reported() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    broken = copy.deepcopy(workflow)
    broken["jobs"]["report"]["steps"].append({"uses": "someone/deploy@0123456789abcdef0123456789abcdef01234567"})
    with pytest.raises(replay.ReplayError, match="someone/deploy"):
        replay.plan(broken, "push")
    broken = copy.deepcopy(workflow)
    broken["jobs"]["shard"]["steps"][0]["if"] = "contains(matrix.shard, 'x')"
    with pytest.raises(replay.ReplayError, match="cannot read|unknown function"):
        replay.plan(broken, "push")
