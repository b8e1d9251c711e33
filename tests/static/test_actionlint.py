"""actionlint on workflow snippets and on the project's own workflows (shellcheck checks `run:` blocks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from statictools import expected_failure, fail, ids, run, tool

from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

SNIPPETS = manifest.by_check("actionlint")
PROJECT_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


def actionlint(*paths: Path) -> tuple[int, str]:
    res = run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes=", *[str(p) for p in paths]],
        timeout=60,
    )
    if res.returncode not in (0, 1):
        fail(f"actionlint did not run:\n{res.describe()}")
    return res.returncode, (res.stdout + res.stderr).strip()


@pytest.mark.check("actionlint")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_actionlint(snippet: Snippet, measure: dict[str, Any]) -> None:
    code, out = actionlint(snippet.file)
    measure["actionlint_problems"] = sum(1 for line in out.splitlines() if line.startswith(str(snippet.file)))
    wanted = expected_failure(snippet, "actionlint_error")
    if wanted:
        if code == 0 or str(wanted) not in out:
            fail(f"{snippet.path}: expected actionlint to report `{wanted}`; it reported:\n{out or 'nothing'}")
        return
    if code != 0:
        fail(f"{snippet.path}: actionlint:\n{out}")


@pytest.mark.parametrize("path", PROJECT_WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_project_workflow(path: Path) -> None:
    code, out = actionlint(path)
    if code != 0:
        fail(f"{path.relative_to(ROOT)}: actionlint:\n{out}")


BROKEN = """\
name: ci
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-versoin: "1.26"
      - run: echo ${{ github.event.head_commit.message }} && cd $HOME/src
      - run: echo "${{ matrix.os }}"
"""


def test_actionlint_flags_a_broken_workflow(tmp_path: Path) -> None:
    wf = tmp_path / "broken.yml"
    wf.write_text(BROKEN, encoding="utf-8")
    code, out = actionlint(wf)
    assert code == 1, out
    assert "go-versoin" in out, out  # unknown input of a known action
    assert "matrix" in out, out  # matrix context without a matrix
    assert "SC2086" in out or "shellcheck" in out, out  # the run: block went through shellcheck
