"""CONTRIBUTING.md's worked example, run as a contributor would: its commands, exactly as written there,
in a clone of this checkout; then the inventory tier's rules on the result (the manifest, the pages, the
parity of the page pair and its stamp, the Russian comment catalog) and `explain` on the new snippet.
If the guide's commands stop working, or stop being enough, this fails — and names the step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from snipcheck.model.paths import ROOT
from support import clone_of_checkout, nested_pytest_env

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(300)]

GUIDE = ROOT / "CONTRIBUTING.md"
BLOCK = re.compile(r"<!-- worked-example -->\s*```bash\n(?P<script>.*?)```\s*<!-- /worked-example -->", re.S)
NEW = "kubernetes/example-namespace.yaml"
RULES = ["tests/inventory/test_inventory.py", "tests/inventory/test_parity.py", "tests/inventory/test_comments.py"]


def worked_example(guide: Path = GUIDE) -> str:
    m = BLOCK.search(guide.read_text(encoding="utf-8"))
    assert m, f"{guide.name}: no `<!-- worked-example -->` bash block (the test runs exactly that block)"
    return m["script"]


def test_the_worked_example_adds_a_code_block_that_passes_the_inventory(tmp_path: Path, measure: dict) -> None:
    script = worked_example()
    repo = clone_of_checkout(tmp_path / "repo")
    assert not (repo / "snippets" / NEW).exists(), f"the example's file snippets/{NEW} exists already"
    env = nested_pytest_env(NO_MKDOCS_2_WARNING="1")
    env.pop("SNIPCHECK_REPORT", None)
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"CONTRIBUTING.md's worked example failed:\n{ran.stdout}\n{ran.stderr}"
    # explain (the block's last command) shows the new entry, both includes, its checks and its proof line
    for expected in (f"snippets/{NEW}", "ru: docs/kubernetes.md:", "en: docs/kubernetes.en.md:",
                     "kubeconform [static]", "kube-apiserver [cluster]", "proof line under the block:"):  # fmt: skip
        assert expected in ran.stdout, f"`explain` output lacks {expected!r}:\n{ran.stdout}"
    rules = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", *RULES],
        cwd=repo,
        env={**env, "SNIPCHECK_REPORT": str(tmp_path / "report.json")},
        capture_output=True,
        text=True,
        timeout=240,
    )
    tail = rules.stdout[-3000:]
    assert rules.returncode == 0, f"after the worked example, the inventory rules fail in the clone:\n{tail}"
    measure["rules"] = tail.strip().splitlines()[-1]


def test_the_inventory_rules_see_a_half_added_block(tmp_path: Path) -> None:
    """The rules the worked example passes are not vacuous: the same example without its last step (the
    Russian text of the comment) leaves the inventory tier failing on the missing comment."""
    script = worked_example()
    joined = re.sub(r"\\\n\s*", " ", script)  # one command per line
    half = "\n".join(line for line in joined.split("\n") if "comments --add" not in line)
    assert "comments --add" not in half and "snipcheck new" in half, half
    repo = clone_of_checkout(tmp_path / "repo")
    env = nested_pytest_env(NO_MKDOCS_2_WARNING="1")
    env.pop("SNIPCHECK_REPORT", None)
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", half], cwd=repo, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    rules = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", RULES[2]],
        cwd=repo,
        env={**env, "SNIPCHECK_REPORT": str(tmp_path / "report.json")},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert rules.returncode != 0 and "A namespace of its own for the example" in rules.stdout, rules.stdout[-3000:]
