"""`bash scripts/test.sh --changed BASE`, end to end, on a real diff: a clone of this checkout gets a
page-only commit, and the command a contributor types runs there against HEAD~1 (issue 28: after a
page-only commit it failed in test_compile_groups — the run's own selection leaked into a nested
collection — and nothing ran `--changed` end to end, so it regressed unseen).

The nested run is narrowed to the tests that exercise the selection itself (this file's neighbours
test_changes and test_compile_groups), so it costs seconds; the selection file, the tier detection,
the setup and pytest's deselection are the real ones."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from support import clone_of_checkout, nested_pytest_env

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(300)]

GIT = ["git", "-c", "user.email=suite@example.invalid", "-c", "user.name=suite"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_a_page_only_commit_runs_changed_end_to_end(tmp_path: Path, measure: dict) -> None:
    clone = clone_of_checkout(tmp_path / "clone", commit=True)
    page = clone / "docs" / "index.en.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n<!-- a page-only change -->\n", encoding="utf-8")
    _git(clone, "commit", "-q", "-am", "a page-only change")
    env = nested_pytest_env(CI="true", NO_MKDOCS_2_WARNING="1")
    for key in ("SNIPCHECK_REPORT", "SNIPCHECK_STARTED", "SNIPCHECK_CACHES_AT_START", "PYTEST_XDIST_WORKER"):
        env.pop(key, None)
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", "scripts/test.sh", "--changed", "HEAD~1", "-m", "inventory", "-p", "no:xdist",
         "-k", "test_changes or test_compile_groups"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    seconds = time.monotonic() - start
    out = proc.stdout + proc.stderr
    measure.update(seconds=round(seconds, 1))
    assert proc.returncode == 0, out[-4000:]
    assert "[changed] tests/site/test_browser.py: pages changed" in out, out[-4000:]
    assert "[changed] the browser tour visits only: docs/index.en.md" in out, out[-4000:]
    assert "[test] tiers to run: inventory" in out, out[-4000:]
    counts = [line for line in out.splitlines() if line.startswith("inventory ")]
    assert counts and "passed" in counts[-1] and "failed" not in counts[-1], out[-3000:]
    assert (clone / "build" / "selection.json").is_file()
