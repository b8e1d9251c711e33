"""Fixture run reports for the site's proof tests: every declared check "ran", with fixture figures.

The numbers here are test fixtures, not measurements; the site tests only check that what a report
says is what the page shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from snipcheck.model.manifest import Snippet

SCENARIO_FIGURES: dict[str, dict[str, Any]] = {
    "single-stage-size": {"single_stage_mb": 1111.1, "multi_stage_mb": 22.2, "ratio": 50.0},
    "shell-form-sigterm": {"seconds_to_stop": 5.31, "exit_code": 137, "stop_timeout": 5},
    "no-sigterm-handling": {"seconds_to_stop": 0.12, "exit_code": 2},
    "runs-as-root": {"uid": 0},
    "cgo-in-scratch": {"exit_code": 127},
    "glibc-in-alpine": {"exit_code": 127},
    "file-logging": {"exit_code": 1},
    "no-dockerignore": {"leaked_files": [".env", ".git/config"]},
    "secret-in-history": {"in_history": True, "in_image_config": True, "in_layers": True},
}


def records_for(snip: Snippet) -> list[dict[str, Any]]:
    out = []
    for check in snip.checks:
        base = {"check": check, "result": "passed", "seconds": 1.5, "test": f"tests/x.py::test[{snip.path}]"}
        if check == "image-run":
            base.update(
                image_mb=33.3,
                uid=65534,
                seconds_to_http_200=0.44,
                seconds_to_stop=0.21,
                exit_code=0,
                compared_image_mb=44.4,
                compared_seconds_to_http_200=0.02,
                image_sources={"golang:1.26-trixie": "local rebuild (recipe abc)"},
            )
        elif check == "image-build":
            base.update(image_mb=33.3, build_seconds=12.0)
        elif check in ("image-antipattern", "compose-antipattern"):
            scen = snip.settings.get("scenario") or ["x"]
            for sc in [scen] if isinstance(scen, str) else scen:
                out.append({**base, "scenario": sc, **SCENARIO_FIGURES.get(sc, {})})
            continue
        elif check == "compose-up":
            base.update(services=["app", "postgres"], seconds_to_healthy=7.7)
        elif check == "kubeconform":
            base.update(kubernetes_versions=["1.31.0", "1.35.0"])
        elif check == "go-test":
            base.update(binary_bytes=22_200_000, binary_stripped_bytes=15_400_000)
        out.append(base)
    return out


def report(
    snippets: dict[str, Snippet],
    commit: str | None,
    *,
    drop: set[str] = frozenset(),
    change: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A report where every declared check passed, minus the snippets in `drop`, with `change` applied."""
    per: dict[str, list[dict[str, Any]]] = {}
    for path, snip in sorted(snippets.items()):
        if path in drop:
            continue
        recs = records_for(snip)
        for rec in recs:
            rec.update((change or {}).get((path, rec["check"]), {}))
        if recs:
            per[path] = recs
    return {
        "run_id": "fixture",
        "ci": False,
        "started": 1_800_000_000.0,
        "wall_seconds": 1.0,
        "image_source_mode": "local",
        "commit": commit,
        "tools": {"Docker Engine": "26.1.5", "Go": "go1.26.8", "kubeconform": None},
        "tiers": {"static": {"seconds": 1.0, "passed": 3}},
        "snippets": per,
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
