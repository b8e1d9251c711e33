"""Where things live in the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # scripts/snipcheck/model/paths.py
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
SCRIPTS = ROOT / "scripts"
TESTS = ROOT / "tests"


def project_shell_scripts() -> list[Path]:
    """The project's own shell scripts: scripts/**/*.sh and .ci/run (linted; apt-get only through scripts/lib)."""
    return sorted({*SCRIPTS.rglob("*.sh"), ROOT / ".ci" / "run"})


BUILD = ROOT / "build"
KUBE_GO_MOD = SCRIPTS / "kube" / "go.mod"  # pins the Kubernetes release the cluster tier builds


def kube_version() -> str:
    """The Kubernetes release that scripts/kube/go.mod requires (e.g. v1.35.4)."""
    text = KUBE_GO_MOD.read_text(encoding="utf-8")
    m = re.search(r"^require k8s\.io/kubernetes (v\d+\.\d+\.\d+)$", text, re.MULTILINE)
    if not m:
        raise RuntimeError(f"{rel(KUBE_GO_MOD)}: no line `require k8s.io/kubernetes vX.Y.Z` — restore it")
    return m.group(1)


def kube_cache_dir(version: str | None = None) -> Path:
    """Where install-kube.sh keeps the binaries of `version` (same rule as the script)."""
    root = os.environ.get("SNIPCHECK_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snipcheck"
    )
    return Path(root) / "kube" / (version or kube_version())


REPORT = Path(os.environ.get("SNIPCHECK_REPORT", BUILD / "report.json"))


def rel(path: Path) -> str:
    """Path relative to the repository root, for messages."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
