"""The suite's parallel runs depend on `--dist loadgroup`: the tests of one snippet share a worker and its
built images, the browser tour and the API server start once. pytest 9.2 with xdist 3.8 distributes
grouped tests as if they had no group (pytest-dev/pytest-xdist#1386) — nothing fails, every worker just
builds and starts everything again. This runs a two-worker session of a tiny suite whose groups are
added the way tests/scheduling.py adds them and checks where each test ran."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(120)]

CONFTEST = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for it in items:
        it.add_marker(pytest.mark.xdist_group(it.name.split("[")[1][0]))
"""
TESTS = """
import pytest

@pytest.mark.parametrize("n", [f"{g}{i}" for g in "ab" for i in range(6)])
def test_x(n):
    pass
"""


def workers_by_group(output: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for worker, group in re.findall(r"\[(gw\d+)\].*test_x\[([ab])\d\]", output):
        found.setdefault(group, set()).add(worker)
    return found


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_groups.py").write_text(TESTS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup", "-v",
         "-o", "addopts=", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=100, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    groups = workers_by_group(proc.stdout)
    assert set(groups) == {"a", "b"}, f"no per-worker lines in the output:\n{proc.stdout[-3000:]}"
    split = {g: sorted(w) for g, w in groups.items() if len(w) > 1}
    assert not split, (
        f"--dist loadgroup spread a group over several workers {split}: the installed pytest/pytest-xdist "
        "pair ignores xdist_group (see requirements.in)"
    )


def test_the_check_sees_a_split_group() -> None:
    spread = "[gw0] [ 8%] PASSED t.py::test_x[a0]\n[gw1] [16%] PASSED t.py::test_x[a1]\n[gw1] PASSED t.py::test_x[b0]"
    assert workers_by_group(spread) == {"a": {"gw0", "gw1"}, "b": {"gw1"}}
