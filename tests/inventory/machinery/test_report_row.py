"""A run's figures reach readers only generated from its report: one row of dev/measurements.md
(`python -m snipcheck report-row`) and the verification page's run table (setup, run kind, lowest disk)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from snipcheck.model.paths import SCRIPTS
from snipcheck.run.results import ReportError, load, row
from snipcheck.site import verification

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

META = {
    "started": 1796000000.0,
    "commit": "0123456789abcdef0123",
    "run_id": "r0123456789",
    "wall_seconds": 300.4,
    "wall_seconds_with_setup": 321.6,
    "setup_seconds": 21,
    "caches_at_start": {"run_kind": "warm"},
    "disk": {"path": "/var/lib/docker", "lowest_free_gb": 12.5, "lowest_after": "tests/x.py::test_y"},
    "tiers": {
        "static": {"seconds": 100.2, "passed": 40, "skipped": 2},
        "inventory": {"seconds": 20.0, "passed": 10, "failed": 1},
    },
}


def _report(tmp_path: Path, meta: dict) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**meta, "snippets": {}}))
    return path


def test_a_row_is_written_from_the_report(tmp_path: Path) -> None:
    line = row(_report(tmp_path, META))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1:8] == ["0123456789ab", "warm", "21", "322", "50", "1", "2"], cells
    assert cells[8] == "inventory 20, static 100", "tiers in the suite's order"
    out = subprocess.run(
        [sys.executable, "-m", "snipcheck", "report-row", str(_report(tmp_path, META))],
        cwd=SCRIPTS,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == line


@pytest.mark.parametrize("meta", [{}, {"started": 1.0}], ids=["no-report", "no-tiers"])
def test_no_row_without_a_finished_runs_report(tmp_path: Path, meta: dict) -> None:
    path = _report(tmp_path, meta) if meta else tmp_path / "missing.json"
    with pytest.raises(ReportError, match="report"):
        row(path)


def test_the_verification_page_shows_setup_run_kind_and_disk(tmp_path: Path) -> None:
    results = load(_report(tmp_path, META))
    en, ru = verification.run(results, "en", None), verification.run(results, "ru", None)
    for expected in ("| setup | 21 s |", "| wall time with setup | 321.6 s |", "warm: no cache was empty", "12.5 GB"):
        assert expected in en, en
    assert "тёплый" in ru and "| подготовка (setup) | 21 с |" in ru, ru
    bare = verification.run(
        load(_report(tmp_path, {k: v for k, v in META.items() if k in ("started", "commit")})), "en", None
    )
    assert "setup" not in bare and "lowest free disk" not in bare, "an older report shows no invented rows"
