"""Shared helpers of the static tier: finding the linters, running them, failing with their output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from snipcheck.harness import proc
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import ROOT, SNIPPETS
from snipcheck.run.toolversions import find_tool
from support import IN_CI, require  # noqa: F401 (the suite-wide rule, re-exported for the static tests)

INSTALL_HINT = "run: bash scripts/install-tools.sh"
K8S_VERSIONS = ("1.31.0", "1.33.0", "1.35.0")


def tool(name: str) -> str:
    """The tool's path, or skip/fail saying how to install it."""
    path = find_tool(name)
    require(path is not None, f"`{name}` is not installed ({INSTALL_HINT})")
    assert path is not None
    return path


Run = proc.Result  # what a linter said: args, returncode, stdout, stderr, seconds; .describe()


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> Run:
    try:
        return proc.run(args, cwd=cwd or ROOT, env=proc.environment(**(env or {})), timeout=timeout, input=input)
    except proc.CommandError as exc:
        pytest.fail(str(exc), pytrace=False)


def fail(msg: str) -> None:
    pytest.fail(msg, pytrace=False)


def ids(snippets: Sequence[Snippet]) -> list[str]:
    return [s.path for s in snippets]


def resolve(snippet: Snippet, name: str) -> Path:
    """A path named in a manifest setting: relative to the manifest's directory, else to snippets/."""
    for base in (snippet.manifest.parent, SNIPPETS):
        cand = (base / name).resolve()
        if cand.exists():
            return cand
    return (snippet.manifest.parent / name).resolve()


def expected_failure(snippet: Snippet, key: str) -> Any:
    """What a check must report for an anti-pattern, or None when the check must pass.

    `expect: fails` describes how the example misbehaves (usually at run time); a static check
    is expected to fail only when the entry says what it reports, under the check's own key
    (hadolint_rules, shellcheck_codes, kubeconform_error, compose_error, actionlint_error,
    vet_error). Otherwise an anti-pattern must still be clean code, like any other snippet.
    """
    if snippet.expect != "fails":
        return None
    value = snippet.settings.get(key)
    return value if value not in (None, "", []) else None


# ---- linters shared by the snippet checks and the project's own lint ---------------------------

HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
FAILING = ("error", "warning")


def hadolint(path: Path, *, lift_ignores: bool = False) -> list[dict[str, Any]]:
    """Findings of hadolint (JSON format) with the repository config.

    `lift_ignores`: passing any `--ignore` replaces the config's ignore list, so a rule the
    config ignores still shows when an anti-pattern is expected to trigger it.
    """
    args = [
        tool("hadolint"),
        "--config",
        str(HADOLINT_CONFIG),
        "--format",
        "json",
        "--failure-threshold",
        "warning",
        "--no-fail",
    ]
    if lift_ignores:
        args += ["--ignore", "DL0000"]
    res = run([*args, str(path)], timeout=30)
    try:
        findings = json.loads(res.stdout or "[]")
    except json.JSONDecodeError:
        fail(f"hadolint printed no JSON:\n{res.describe()}")
    if res.returncode != 0:
        fail(f"hadolint did not run:\n{res.describe()}")
    return findings


SEVERITY = "style"


def shellcheck(path: Path) -> list[dict[str, Any]]:
    args = [tool("shellcheck"), "-x", "--source-path=SCRIPTDIR", f"--severity={SEVERITY}", "-f", "json1"]
    if not path.read_text(encoding="utf-8").startswith("#!"):
        args.append("--shell=bash")
    res = run([*args, path.name], cwd=path.parent, timeout=60)
    try:
        comments = json.loads(res.stdout)["comments"]
    except (json.JSONDecodeError, KeyError):
        fail(f"shellcheck printed no JSON:\n{res.describe()}")
    if res.returncode not in (0, 1):
        fail(f"shellcheck did not run:\n{res.describe()}")
    return comments


def hadolint_text(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"  line {f['line']}: {f['code']} [{f['level']}] {f['message']}" for f in findings)


def shellcheck_text(comments: list[dict[str, Any]]) -> str:
    return "\n".join(f"  line {c['line']}: SC{c['code']} [{c['level']}] {c['message']}" for c in comments)
