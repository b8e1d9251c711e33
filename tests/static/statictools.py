"""Shared helpers of the static tier: finding the linters, running them, failing with their output."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from snipcheck import proc
from snipcheck.manifest import Snippet
from snipcheck.paths import BUILD, ROOT, SNIPPETS
from support import IN_CI, require  # noqa: F401 (the suite-wide rule, re-exported for the static tests)

INSTALL_HINT = "run: bash scripts/install-tools.sh"
TOOL_DIRS = [Path(sys.executable).parent, BUILD / "tools" / "bin", Path("/usr/local/go/bin")]
K8S_VERSIONS = ("1.31.0", "1.33.0", "1.35.0")


def find_tool(name: str) -> str | None:
    for d in TOOL_DIRS:
        cand = d / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which(name)


def tool(name: str) -> str:
    """The tool's path, or skip/fail saying how to install it."""
    path = find_tool(name)
    require(path is not None, f"`{name}` is not installed ({INSTALL_HINT})")
    assert path is not None
    return path


Run = proc.Result  # what a linter said: args, returncode, stdout, stderr, seconds; .describe()


def run(args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 120, input: str | None = None) -> Run:
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
