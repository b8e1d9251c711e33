"""Reading a run report (build/report.json) for the site: what the last run did to each snippet.

The writer is snipcheck.report; this module only reads. A missing report is a normal state
(`mkdocs serve` before any run): `load()` then returns an empty Results whose `present` is False.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
