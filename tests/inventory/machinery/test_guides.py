"""The guides and the maintainers' notes carry no hand-typed figure: measured values are on the generated
verification page (from the run report) and in dev/measurements.md (rows written by
`python -m snipcheck report-row`), never typed. A figure with a unit, a date or a commit hash in prose
fails here with its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snipcheck.model.paths import ROOT

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

UNITS = r"s|ms|sec|seconds?|min|minutes?|h|hours?|MB|GB|KB|MiB|GiB|TB|%|CPU-seconds|cores?"
FIGURE = re.compile(rf"(?<![\w.=/-])\d+(?:\.\d+)?\s*(?:{UNITS})(?![\w-])")
DATE = re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b")
HASH = re.compile(r"(?<![\w./-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![\w-])")
# where the project keeps a figure on purpose: the measurements log's rows (machine-written) only
MACHINE_ROWS = {"dev/measurements.md"}


def guides() -> list[Path]:
    """README, CONTRIBUTING and every maintainers' note (Markdown outside docs/, snippets/, original/)."""
    skip = ("docs/", "snippets/", "original/", ".venv/", "build/", "site/", "node_modules/")
    return sorted(
        p for p in ROOT.rglob("*.md") if not p.relative_to(ROOT).as_posix().startswith(skip) and ".git/" not in str(p)
    )


def typed_figures(path: Path, rel: str) -> list[str]:
    found = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if rel in MACHINE_ROWS and line.startswith("|"):
            continue
        for pattern, what in ((FIGURE, "a measured figure"), (DATE, "a date"), (HASH, "a commit hash")):
            for m in pattern.finditer(line):
                found.append(
                    f"{rel}:{no}: {what} typed in prose ({m.group(0)!r}) — say where it is shown instead "
                    f"(the verification page, dev/measurements.md)"
                )
    return found


def test_the_guides_and_notes_carry_no_typed_figures() -> None:
    files = guides()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    assert {"README.md", "CONTRIBUTING.md", "tests/README.md", "scripts/snipcheck/README.md"} <= names, names
    problems = [p for f in files for p in typed_figures(f, f.relative_to(ROOT).as_posix())]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "line",
    [
        "A warm run took 331 s on two cores.",
        "The cold run: 29.0 min, setup 406 s.",
        "It used 38.4 GB of disk (12 %).",
        "Measured on 2026-12-02.",
        "Fixed in f9c0e6e.",
    ],
)
def test_a_typed_figure_is_named(tmp_path: Path, line: str) -> None:
    note = tmp_path / "NOTE.md"
    note.write_text(f"# Note\n\nSome text.\n{line}\n")
    found = typed_figures(note, "NOTE.md")
    assert found and found[0].startswith("NOTE.md:4:"), found


@pytest.mark.parametrize(
    "line",
    [
        "Engine ≥ 23.0, compose ≥ 2.24, pytest 9.1.1, Python 3.11.",
        "A 390×844 phone; GOGC=400; port 8080.",
        "SHUTDOWN_DELAY=0s stays a setting.",
        "The image snipcheck.local/pause:3.10.1.",
    ],  # fmt: skip
)
def test_versions_and_settings_are_not_figures(tmp_path: Path, line: str) -> None:
    note = tmp_path / "NOTE.md"
    note.write_text(f"{line}\n")
    assert typed_figures(note, "NOTE.md") == []
