"""Where things live in the repository."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
SCRIPTS = ROOT / "scripts"
TESTS = ROOT / "tests"


def project_shell_scripts() -> list[Path]:
    """The project's own shell scripts: scripts/**/*.sh and .ci/run (linted; apt-get only through scripts/lib)."""
    return sorted({*SCRIPTS.rglob("*.sh"), ROOT / ".ci" / "run"})


BUILD = ROOT / "build"
REPORT = Path(os.environ.get("SNIPCHECK_REPORT", BUILD / "report.json"))


def rel(path: Path) -> str:
    """Path relative to the repository root, for messages."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
