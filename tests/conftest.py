"""Suite-wide rules: tiers, CI strictness, per-snippet recording, tier timing, coverage.

- `require(ok, missing)`: locally skip with a reason naming what is missing and how to get it;
  with CI=true fail instead, so a tier that cannot run is never reported as passing.
- A test marked `@pytest.mark.check("NAME")` and parametrised with `snippet` gets its outcome
  recorded in the run report for (snippet, NAME); the `measure` fixture adds measurements.
- At the end, every (snippet, check) declared in the manifests whose tier ran must have a
  recorded result; otherwise the session fails and names the missing pairs.
"""

from __future__ import annotations

import os
import platform
import time
from collections import defaultdict
from typing import Any

import pytest

from snipcheck import docker as dk
from snipcheck import manifest, toolversions
from snipcheck import report as run_report
from snipcheck.checks import CHECKS, TIERS
from snipcheck.paths import REPORT, rel
from snipcheck.results import head_commit
from support import CALL_FAILED, IN_CI, require  # noqa: F401 (require re-exported)


def tier_of(item: pytest.Item) -> str:
    for tier in TIERS:
        if item.get_closest_marker(tier):
            return tier
    return "unmarked"


def snippet_of(item: pytest.Item) -> str | None:
    """The snippet a parametrised test exercises (a manifest.Snippet parameter, by any name)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, manifest.Snippet):
            return value.path
    return None


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Measurements recorded with this test's result (image size, uid, seconds...)."""
    data: dict[str, Any] = {}
    request.node.stash[_MEASURE] = data
    return data


_MEASURE = pytest.StashKey[dict]()
_TIER_SPAN: dict[str, list[float]] = defaultdict(lambda: [float("inf"), 0.0])
_TIER_COUNTS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_TIERS_SELECTED: set[str] = set()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order = {t: i for i, t in enumerate(TIERS)}
    items.sort(key=lambda it: order.get(tier_of(it), len(order)))
    for it in items:
        if tier_of(it) == "unmarked":
            raise pytest.UsageError(f"{it.nodeid}: every test needs a tier marker ({', '.join(TIERS)})")
        _TIERS_SELECTED.add(tier_of(it))


def pytest_configure(config: pytest.Config) -> None:
    # xdist workers inherit the environment: every process of this run shares one run id
    os.environ.setdefault("SNIPCHECK_RUN_ID", dk.RUN_ID)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_worker(session.config):
        run_report.reset()
        session.config.stash[_START] = time.time()


_START = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    rep.user_properties.append(("tier", tier_of(item)))  # travels to the xdist controller
    if rep.when == "call" and rep.failed:
        item.stash[CALL_FAILED] = True  # fixtures attach logs on failure
    mark = item.get_closest_marker("check")
    snippet = snippet_of(item)
    if mark is None or snippet is None:
        return
    final = (rep.when == "call") or (rep.when == "setup" and not rep.passed)
    if not final:
        return
    result = "passed" if rep.passed else "skipped" if rep.skipped else "failed"
    extra = dict(item.stash.get(_MEASURE, {}))
    if rep.skipped and isinstance(rep.longrepr, tuple):
        extra["reason"] = rep.longrepr[2]
    elif rep.failed:
        extra["error"] = str(rep.longrepr)[-1500:]
    run_report.record(snippet, mark.args[0], result, rep.duration, test=item.nodeid, **extra)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    rep = report
    tier = dict(rep.user_properties).get("tier", "unmarked")
    span = _TIER_SPAN[tier]
    span[0] = min(span[0], rep.start)
    span[1] = max(span[1], rep.stop)
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        _TIER_COUNTS[tier][rep.outcome] += 1
    elif rep.when == "teardown" and rep.failed:
        _TIER_COUNTS[tier]["error"] += 1


def _missing_pairs(selected_tiers: set[str]) -> list[str]:
    try:
        snippets = manifest.load()
    except manifest.ManifestError:
        return []  # the inventory tier reports the broken manifest itself
    seen = {(r["snippet"], r["check"]) for r in run_report.records()}
    missing = []
    for snip in snippets.values():
        for check in snip.checks:
            if CHECKS[check].tier in selected_tiers and (snip.path, check) not in seen:
                missing.append(f"{snip.where()}: {snip.path} declares `{check}` but no test recorded it "
                               f"(implement it in {CHECKS[check].test_file})")
    return missing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    selected = {t for t, c in _TIER_COUNTS.items() if sum(c.values())}
    # Coverage is judged only on whole-suite runs (tiers may be narrowed with -m, not -k or paths).
    whole = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS \
        and not session.config.option.keyword
    missing = _missing_pairs(selected) if whole else []
    tiers = {
        t: {"seconds": round(max(0.0, s[1] - s[0]), 1), **dict(_TIER_COUNTS[t])}
        for t, s in _TIER_SPAN.items() if s[1] > 0
    }
    session.config.stash[_TIERS] = tiers
    session.config.stash[_MISSING] = missing
    run_report.write({
        "run_id": dk.RUN_ID,
        "ci": IN_CI,
        "started": session.config.stash.get(_START, 0.0),
        "wall_seconds": round(time.time() - session.config.stash.get(_START, time.time()), 1),
        "host": platform.node(),
        "image_source_mode": os.environ.get("SNIPCHECK_IMAGES", "auto"),
        "commit": head_commit(),  # the site's publishing build refuses a report of another commit
        "tools": toolversions.collect(),
        "tiers": tiers,
        "unrecorded_checks": missing,
    })
    if missing and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TIERS = pytest.StashKey[dict]()
_MISSING = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    tiers = config.stash.get(_TIERS, {})
    tr = terminalreporter
    tr.section("wall time per tier")
    for tier in [*TIERS, "unmarked"]:
        if tier in tiers:
            t = tiers[tier]
            counts = ", ".join(f"{k} {v}" for k, v in t.items() if k != "seconds")
            tr.write_line(f"{tier:<10} {t['seconds']:>8.1f} s   {counts}")
    tr.write_line(f"report: {rel(REPORT)}")
    for line in config.stash.get(_MISSING, []):
        tr.write_line(f"UNRECORDED CHECK: {line}", red=True)
