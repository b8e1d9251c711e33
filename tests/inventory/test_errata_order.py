"""The errata page reads in the chapter's order, the same in both languages (snipcheck.rules.errata_order);
the rule is shown failing on a copy with two rows swapped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from snipcheck.model.paths import DOCS, ROOT
from snipcheck.rules import errata_order

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

ORIGINAL = ROOT / "original"


def _first() -> dict[str, int]:
    return errata_order.places(
        ORIGINAL / "chapter-4.7.ru.md", ORIGINAL / "blocks.yaml", ORIGINAL / "prose.yaml", ORIGINAL / "comments.yaml"
    )


def test_errata_rows_follow_the_chapter() -> None:
    problems = errata_order.check(DOCS, _first())
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_swapped_rows_fail(tmp_path: Path) -> None:
    for name in ("errata.md", "errata.en.md"):
        shutil.copy(DOCS / name, tmp_path / name)
    first = _first()
    title, rows = next((t, r) for t, r in errata_order.sections(tmp_path / "errata.md") if t.startswith("Kubernetes"))
    a, b = next(
        (x, y) for x, y in zip(rows, rows[1:], strict=False) if x in first and y in first and first[x] < first[y]
    )
    order = [
        r if t != title else [b if x == a else a if x == b else x for x in r]
        for t, r in errata_order.sections(tmp_path / "errata.md")
    ]
    (tmp_path / "errata.md").write_text(errata_order.reorder(tmp_path / "errata.md", order), encoding="utf-8")
    problems = errata_order.check(tmp_path, first)
    assert any(f"#{a} (original line {first[a]}) comes after #{b}" in p for p in problems), problems
    assert any(p.startswith("docs/errata.en.md, section") for p in problems), problems  # languages disagree
