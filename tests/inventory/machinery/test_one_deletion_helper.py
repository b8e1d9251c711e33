"""One way to delete a tree (review M2: deletions crossed mount points — the class of bug that once
removed a host's /home): Python code removes trees only through snipcheck.harness.saferm, and every `rm -rf` of
the project's shell scripts stays on its file system (`--one-file-system`) or goes through saferm.py.
A new shutil.rmtree or a bare rm -rf fails here, naming the file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snipcheck.model.paths import ROOT, SCRIPTS, project_shell_scripts

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(30)]

SAFERM = SCRIPTS / "snipcheck" / "harness" / "saferm.py"
QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def python_rmtrees(files: list[Path]) -> list[str]:
    found = []
    for f in files:
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\brmtree\b", code) and "saferm" not in code:
                found.append(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f.name}:{no}: {line.strip()}")
    return found


def shell_rm_rfs(files: list[Path]) -> list[str]:
    found = []
    for f in files:
        for no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            code = line if "trap" in line else QUOTED.sub('""', line)
            code = code.split(" #", 1)[0] if not code.lstrip().startswith("#") else ""
            if re.search(r"\brm\s+-(rf|fr|r)\b", code) and "--one-file-system" not in code:
                found.append(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f.name}:{no}: {line.strip()}")
    return found


def test_python_removes_trees_only_through_saferm() -> None:
    files = [p for d in (SCRIPTS, ROOT / "tests") for p in d.rglob("*.py") if p != SAFERM]
    found = [
        hit
        for hit in python_rmtrees(files)
        if not hit.startswith("tests/inventory/machinery/test_one_deletion_helper.py")
    ]
    assert not found, "remove trees with snipcheck.harness.saferm.remove_tree (never through a mount):\n" + "\n".join(
        found
    )


def test_shell_rm_rf_stays_on_its_file_system() -> None:
    found = shell_rm_rfs(project_shell_scripts())
    assert not found, "use rm -rf --one-file-system, or python3 scripts/snipcheck/harness/saferm.py:\n" + "\n".join(
        found
    )


def test_the_guards_see_a_bare_deletion(tmp_path: Path) -> None:
    py = tmp_path / "x.py"
    py.write_text("import shutil\nshutil.rmtree(p)  # gone\n# shutil.rmtree in a comment\n", encoding="utf-8")
    sh = tmp_path / "x.sh"
    sh.write_text(
        'rm -rf "$dir"\nrm -rf --one-file-system "$ok"\nlog "rm -rf in a message"\ntrap \'rm -rf "$t"\' EXIT\n'
    )
    assert python_rmtrees([py]) == ["x.py:2: shutil.rmtree(p)  # gone"]
    assert shell_rm_rfs([sh]) == ['x.sh:1: rm -rf "$dir"', "x.sh:4: trap 'rm -rf \"$t\"' EXIT"]
