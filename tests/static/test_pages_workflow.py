"""The Pages workflow's promises that actionlint does not check: least privilege (nothing at the top,
`pages`/`id-token` only on the deploy job), one deployment at a time, actions pinned to commits, and a
strict build with the publishing settings. Each rule is also run on a broken copy."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from snipcheck.paths import ROOT

pytestmark = [pytest.mark.static, pytest.mark.timeout(30)]

PAGES = ROOT / ".github" / "workflows" / "pages.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def workflow_problems(wf: dict[str, Any]) -> list[str]:
    problems = []
    if wf.get("permissions") != {}:
        problems.append(f"top-level permissions are {wf.get('permissions')!r}, not {{}}: grant per job")
    if not (wf.get("concurrency") or {}).get("group"):
        problems.append("no concurrency group: two deployments could race")
    for name, job in wf["jobs"].items():
        perms = job.get("permissions") or {}
        writes = {k for k, v in perms.items() if v == "write"}
        allowed = {"pages", "id-token"} if name == "deploy" else set()
        if writes - allowed:
            problems.append(f"job {name}: write permissions {sorted(writes - allowed)} beyond {sorted(allowed)}")
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not PINNED.match(uses):
                problems.append(f"job {name}: `{uses}` is not pinned to a commit SHA")
    runs = " ".join(step.get("run", "") for job in wf["jobs"].values() for step in job.get("steps", []))
    if "mkdocs build --strict" not in runs:
        problems.append("no `mkdocs build --strict` step")
    envs = {k for job in wf["jobs"].values() for step in job.get("steps", []) for k in (step.get("env") or {})}
    if not {"SITE_URL", "REPO_URL", "EDIT_URI"} <= envs:
        problems.append(f"the build does not set the publishing settings (has {sorted(envs)})")
    return problems


def _load() -> dict[str, Any]:
    wf = yaml.safe_load(PAGES.read_text(encoding="utf-8"))
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
