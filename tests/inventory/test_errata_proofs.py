"""Every errata row carries its evidence: a test, check or file that exists, or how the fact was
established (snipcheck.rules.errata_proofs); and the rule catches a row that points at nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from snipcheck.model.paths import ROOT
from snipcheck.rules import errata_proofs

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def test_every_errata_row_carries_its_evidence() -> None:
    problems = errata_proofs.problems(ROOT)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """docs/errata*.md, tests/ and snippets/ of this tree in a temporary root."""
    for name in ("docs", "tests", "snippets", "original"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    assert errata_proofs.problems(tmp_path) == []
    return tmp_path


def _edit(root: Path, page: str, old: str, new: str) -> None:
    path = root / "docs" / page
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the negative test expects {old!r} in docs/{page}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_renamed_test_is_a_broken_reference(copy: Path) -> None:
    _edit(copy, "errata.en.md", "test_the_hpa_owns_the_replica_count", "test_the_hpa_owned_the_count")
    problems = errata_proofs.problems(copy)
    assert any("#hpa-replicas" in p and "defines no test_the_hpa_owned_the_count" in p for p in problems), problems


def test_a_missing_file_is_a_broken_reference(copy: Path) -> None:
    (copy / "tests" / "static" / "test_compose_exposure.py").unlink()
    problems = errata_proofs.problems(copy)
    assert any("#compose-exposure" in p and "no file tests/static/test_compose_exposure.py" in p for p in problems)


def test_a_row_with_neither_proof_nor_source_fails(copy: Path) -> None:
    text = (copy / "docs" / "errata.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if "{ #secrets-etcd }" in line)
    cells = row.split(" | ")
    _edit(copy, "errata.md", row, " | ".join([*cells[:-1], "Только правка текста |"]))
    problems = errata_proofs.problems(copy)
    assert any("errata.md" in p and "#secrets-etcd" in p and "does not say how" in p for p in problems), problems
