"""What the run's caches held when it started, so the report can say whether a run was cold or warm.

Written by scripts/test.sh before the setup (build/caches-at-start.json, named to the run by the
SNIPCHECK_CACHES_AT_START variable) and copied into the report as `caches_at_start`. Its `run_kind` is
"cold" when BuildKit's cache, the Docker image store, the Go build cache and the Kubernetes binaries were
all empty, "warm" when all held something, "partial" otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..model.paths import BUILD, kube_cache_dir

SNAPSHOT = BUILD / "caches-at-start.json"


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def _go_build_cache() -> Path:
    if shutil.which("go"):
        out = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True, timeout=30).stdout.strip()
        if out:
            return Path(out)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "go-build"


def _docker() -> dict[str, Any]:
    """Images and BuildKit cache records of the engine (None when no engine answers)."""
    res = (
        subprocess.run(
            ["docker", "system", "df", "--format", "{{.Type}}\t{{.TotalCount}}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if shutil.which("docker")
        else None
    )
    counts = dict(line.split("\t", 1) for line in res.stdout.splitlines() if "\t" in line) if res else {}
    if res is None or res.returncode != 0:
        return {"images": None, "build_cache_records": None}
    return {"images": int(counts.get("Images", 0)), "build_cache_records": int(counts.get("Build Cache", 0))}


def snapshot() -> dict[str, Any]:
    kube = kube_cache_dir()
    state = {
        **_docker(),
        "go_build_cache_bytes": _dir_bytes(_go_build_cache()),
        "kube_binaries": sorted(p.name for p in kube.iterdir() if p.is_file() and os.access(p, os.X_OK))
        if kube.is_dir()
        else [],
    }
    filled = [
        bool(state["images"]),
        bool(state["build_cache_records"]),
        state["go_build_cache_bytes"] > 0,
        bool(state["kube_binaries"]),
    ]
    state["run_kind"] = "warm" if all(filled) else "cold" if not any(filled) else "partial"
    return state


def write(path: Path = SNAPSHOT) -> dict[str, Any]:
    state = snapshot()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    return state


def read() -> dict[str, Any] | None:
    """The snapshot of this run, if scripts/test.sh took one (a plain pytest run has none)."""
    path = os.environ.get("SNIPCHECK_CACHES_AT_START")
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
