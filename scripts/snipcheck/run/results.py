"""Reading a run report (build/report.json) for the site: what the last run did to each snippet.

The writer is snipcheck.run.report; this module only reads. A missing report is a normal state
(`mkdocs serve` before any run): `load()` then returns an empty Results whose `present` is False.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.checks import TIERS
from ..model.paths import REPORT, ROOT


class ReportError(ValueError):
    """The report exists but cannot be read; the message names the file."""


@dataclass
class Results:
    path: Path
    present: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    snippets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def commit(self) -> str | None:
        return self.meta.get("commit") or None

    def records(self, snippet: str, check: str | None = None) -> list[dict[str, Any]]:
        recs = self.snippets.get(snippet, [])
        return [r for r in recs if check is None or r.get("check") == check]

    def figure(self, snippet: str, check: str, key: str) -> Any:
        """The first recorded value of `key` for (snippet, check), or None."""
        for rec in self.records(snippet, check):
            if key in rec and rec[key] is not None:
                return rec[key]
        return None

    def image_sources(self) -> dict[str, str]:
        """Every base image the run used and where it came from (ref -> description)."""
        out: dict[str, str] = {}
        for snippet, recs in self.snippets.items():
            for rec in recs:
                for ref, what in (rec.get("image_sources") or {}).items():
                    out.setdefault(ref, str(what))
                if snippet.startswith("image:") and rec.get("image_source"):
                    out.setdefault(snippet[len("image:") :], str(rec["image_source"]))
        return dict(sorted(out.items()))


def load(path: Path = REPORT) -> Results:
    if not path.is_file():
        return Results(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read the run report ({exc}) — re-run the suite or delete it") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("snippets", {}), dict):
        raise ReportError(f"{path}: not a run report (expected an object with `snippets`)")
    snippets = doc.pop("snippets", {})
    return Results(path, True, doc, snippets)


def head_commit(root: Path = ROOT) -> str | None:
    """The commit being built (git HEAD), or None outside a git checkout."""
    try:
        # safe.directory: CI runs the suite as root in a checkout owned by another user
        res = subprocess.run(
            ["git", "-c", f"safe.directory={root}", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def row(path: Path = REPORT) -> str:
    """One Markdown row of dev/measurements.md from a run report: when, which commit, cold or warm, setup
    and wall seconds, the counts and each tier's seconds — written by a command, never by hand."""
    results = load(path)
    if not results.present:
        raise ReportError(f"{path}: no run report — run the suite first (bash scripts/test.sh)")
    meta = results.meta
    tiers: dict[str, dict[str, Any]] = meta.get("tiers") or {}
    if not tiers or not meta.get("started"):
        raise ReportError(f"{path}: the report holds no tiers or start time — not a finished run's report")

    def total(outcome: str) -> int:
        return sum(int(t.get(outcome, 0)) for t in tiers.values())

    started = datetime.datetime.fromtimestamp(float(meta["started"]), datetime.UTC).strftime("%Y-%m-%d %H:%M")
    run_kind = (meta.get("caches_at_start") or {}).get("run_kind", "unknown")
    wall = meta.get("wall_seconds_with_setup") or meta.get("wall_seconds")
    order = {name: i for i, name in enumerate(TIERS)}
    spans = ", ".join(
        f"{name} {t.get('seconds', 0):.0f}" for name, t in sorted(tiers.items(), key=lambda kv: order.get(kv[0], 99))
    )
    cells = [
        started,
        (meta.get("commit") or "unknown")[:12],
        str(run_kind),
        str(meta.get("setup_seconds", "")),
        f"{float(wall):.0f}" if wall is not None else "",
        str(total("passed")),
        str(total("failed")),
        str(total("skipped")),
        spans,
    ]
    return "| " + " | ".join(cells) + " |"
