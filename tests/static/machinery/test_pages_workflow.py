"""The workflows' promises that actionlint does not check. Both: least privilege (nothing at the top,
write access only where a job needs it), every action pinned to a commit SHA, checkouts that keep no
credentials in .git/config. Pages: `pages`/`id-token` only on the deploy job, one deployment at a time,
a strict build with the publishing settings. CI: root only for the shard that needs it, through sudo
(GitHub runs jobs as the user `runner`). Each rule is also run on a broken copy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from _pytest.mark.expression import Expression

from snipcheck.model.checks import TIERS
from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.static, pytest.mark.timeout(30)]

PAGES = ROOT / ".github" / "workflows" / "pages.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def common_problems(wf: dict[str, Any], may_write: dict[str, set[str]]) -> list[str]:
    """Rules for every workflow; `may_write`: job -> the permissions it may have with `write`."""
    problems = []
    if wf.get("permissions") != {}:
        problems.append(f"top-level permissions are {wf.get('permissions')!r}, not {{}}: grant per job")
    for name, job in wf["jobs"].items():
        perms = job.get("permissions") or {}
        writes = {k for k, v in perms.items() if v == "write"}
        allowed = may_write.get(name, set())
        if writes - allowed:
            problems.append(f"job {name}: write permissions {sorted(writes - allowed)} beyond {sorted(allowed)}")
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not PINNED.match(uses):
                problems.append(f"job {name}: `{uses}` is not pinned to a commit SHA")
            if (
                uses
                and uses.startswith("actions/checkout@")
                and (step.get("with") or {}).get("persist-credentials") is not False
            ):
                problems.append(f"job {name}: a checkout without `persist-credentials: false`")
    return problems


def workflow_problems(wf: dict[str, Any]) -> list[str]:
    problems = common_problems(wf, {"deploy": {"pages", "id-token"}})
    if not (wf.get("concurrency") or {}).get("group"):
        problems.append("no concurrency group: two deployments could race")
    runs = " ".join(step.get("run", "") for job in wf["jobs"].values() for step in job.get("steps", []))
    if "mkdocs build --strict" not in runs:
        problems.append("no `mkdocs build --strict` step")
    envs = {k for job in wf["jobs"].values() for step in job.get("steps", []) for k in (step.get("env") or {})}
    if not {"SITE_URL", "REPO_URL", "EDIT_URI"} <= envs:
        problems.append(f"the build does not set the publishing settings (has {sorted(envs)})")
    return problems


def ci_problems(wf: dict[str, Any]) -> list[str]:
    problems = common_problems(wf, {})
    shards = wf["jobs"]["shard"]
    root = [m["shard"] for m in shards["strategy"]["matrix"]["include"] if m.get("as_root")]
    if root != ["cluster"]:
        problems.append(f"shards run as root: {root}, expected only ['cluster'] (the host-playing tests and the node)")
    problems += _shard_coverage_problems(shards["strategy"]["matrix"]["include"])
    runs = [step.get("run", "") for step in shards["steps"] if "scripts/test.sh" in step.get("run", "")]
    if len(runs) != 1 or "sudo" not in runs[0] or 'bash scripts/test.sh "${args[@]}"' not in runs[0]:
        problems.append("the shard step does not run test.sh with sudo for `as_root` shards and without for the rest")
    return problems


def _shard_coverage_problems(shards: list[dict[str, Any]]) -> list[str]:
    """Every test runs in some shard, and a test marked `root` only in a shard that runs as root: for each
    tier, with and without the `root` mark, the shards whose `-m` expression selects it."""
    problems = []
    for tier in TIERS:
        for root in (False, True):
            marks = {tier, "root"} if root else {tier}
            chosen = [
                m
                for m in shards
                if Expression.compile(m["tiers"]).evaluate(lambda name, marks=marks, **_: name in marks)
            ]
            what = f"tests of the {tier} tier" + (" marked root" if root else "")
            if not chosen:
                problems.append(f"no shard runs the {what}")
            if root and (bad := [m["shard"] for m in chosen if not m.get("as_root")]):
                problems.append(f"the {what} run in {bad}, which do not run as root: there they could only skip")
    return problems


def _load(path: Path = PAGES) -> dict[str, Any]:
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    wf["on"] = wf.pop(True, wf.get("on"))  # YAML 1.1 reads the key `on` as True
    return wf


def test_pages_workflow_is_least_privilege_pinned_and_strict() -> None:
    problems = workflow_problems(_load())
    assert not problems, "\n".join(problems)
    assert set(_load()["on"]) == {"workflow_run", "workflow_dispatch"}


def test_a_loose_pages_workflow_is_reported() -> None:
    wf = _load()
    wf["permissions"] = {"contents": "write"}
    wf["jobs"]["build"]["permissions"]["pages"] = "write"
    wf["jobs"]["deploy"]["steps"][0]["uses"] = "actions/deploy-pages@v4"
    del wf["concurrency"]
    problems = "\n".join(workflow_problems(wf))
    for expected in (
        "top-level permissions",
        "concurrency",
        "job build: write permissions ['pages']",
        "actions/deploy-pages@v4",
    ):
        assert expected in problems, problems


def test_ci_workflow_is_least_privilege_pinned_and_root_only_where_needed() -> None:
    problems = ci_problems(_load(CI))
    assert not problems, "\n".join(problems)


def test_a_loose_ci_workflow_is_reported() -> None:
    wf = _load(CI)
    wf["permissions"] = {"contents": "read"}
    wf["jobs"]["shard"]["steps"][0]["uses"] = "actions/checkout@v4"
    wf["jobs"]["report"]["steps"][0].pop("with", None)
    wf["jobs"]["shard"]["strategy"]["matrix"]["include"][0]["as_root"] = True
    wf["jobs"]["shard"]["strategy"]["matrix"]["include"][1]["tiers"] = "kit"  # the images tier in no shard
    problems = "\n".join(ci_problems(wf))
    for expected in (
        "top-level permissions",
        "actions/checkout@v4` is not pinned",
        "job report: a checkout without `persist-credentials: false`",
        "shards run as root: ['lint', 'cluster']",
        "no shard runs the tests of the images tier",
    ):
        assert expected in problems, problems


def test_root_tests_in_a_shard_of_the_runner_user_are_reported() -> None:
    wf = _load(CI)
    lint = wf["jobs"]["shard"]["strategy"]["matrix"]["include"][0]
    lint["tiers"] = "inventory or static or service"  # as before: the root tests skipped as `runner`
    problems = "\n".join(ci_problems(wf))
    assert "the tests of the inventory tier marked root run in ['lint']" in problems, problems
