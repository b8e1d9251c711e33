"""The one report writer.

Tests record one line per (snippet, check) with its result, duration and measurements
into a per-process JSON-lines file; at the end of the session the controller merges them
into one JSON report (default build/report.json, override with SNIPCHECK_REPORT).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..model.paths import REPORT
from .ids import RUN_BASE  # one id per run, shared with xdist workers through the environment


def fragments_dir(report: Path = REPORT) -> Path:
    return report.parent / (report.stem + ".d")


def record(
    snippet: str, check: str, result: str, seconds: float, *, report: Path = REPORT, **measurements: Any
) -> None:
    """Append one result. `result` is passed, failed, skipped or pending."""
    frag = fragments_dir(report)
    frag.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    line = {
        "snippet": snippet,
        "check": check,
        "result": result,
        "seconds": round(seconds, 3),
        "at": time.time(),
        **measurements,
    }
    with (frag / f"{RUN_BASE}-{worker}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def reset(report: Path = REPORT, max_age_s: float = 6 * 3600) -> None:
    """Forget this run's fragments and stale ones; fragments of concurrent runs stay."""
    frag = fragments_dir(report)
    if frag.is_dir():
        for f in frag.glob("*.jsonl"):
            if f.name.startswith(RUN_BASE + "-") or time.time() - f.stat().st_mtime > max_age_s:
                f.unlink()


def records(report: Path = REPORT) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    frag = fragments_dir(report)
    for f in sorted(frag.glob(f"{RUN_BASE}-*.jsonl")) if frag.is_dir() else []:
        out += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line]
    return out


def write(meta: dict[str, Any], report: Path = REPORT) -> dict[str, Any]:
    """Merge the fragments into the final report, grouped per snippet."""
    per_snippet: dict[str, list[dict[str, Any]]] = {}
    for rec in sorted(records(report), key=lambda r: (r["snippet"], r["check"])):
        per_snippet.setdefault(rec.pop("snippet"), []).append(rec)
    doc = {**meta, "snippets": per_snippet}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return doc


def _combine(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    if a is None:
        return dict(b)
    out = dict(a)
    for key, value in b.items():
        if key == "seconds":
            out[key] = max(float(out.get(key) or 0), float(value or 0))
        elif isinstance(value, (int, float)):
            out[key] = (out.get(key) or 0) + value
    return out


def merge(reports: list[Path], dest: Path = REPORT) -> dict[str, Any]:
    """One report from the reports of parallel CI jobs (a shard or tier each) of the same commit."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in reports]
    if not docs:
        raise ValueError("no reports to merge")
    commits = {d.get("commit") for d in docs}
    if len(commits) > 1:
        raise ValueError(f"reports of different commits cannot be merged: {sorted(map(str, commits))}")
    merged: dict[str, Any] = {
        **docs[0],
        "tiers": {},
        "snippets": {},
        "unrecorded_checks": [],
        "shards": [str(p) for p in reports],
        # each job started from its own caches (a cold and a warm shard can meet in one report)
        "caches_at_start": {str(p): d.get("caches_at_start") for p, d in zip(reports, docs, strict=True)},
        "disk": {str(p): d.get("disk") for p, d in zip(reports, docs, strict=True)},  # each job's own machine
    }
    seen: dict[tuple[str, str, str], str] = {}
    for path, doc in zip(reports, docs, strict=True):
        for tier, figures in (doc.get("tiers") or {}).items():
            # a tier may span shards (GitHub's sudo shard runs the root-marked tests of the others): its
            # counts add up, its wall time is the longest of the shards (they ran on machines of their own)
            merged["tiers"][tier] = _combine(merged["tiers"].get(tier), figures)
        for snippet, records_ in (doc.get("snippets") or {}).items():
            for rec in records_:
                key = (snippet, str(rec.get("check")), str(rec.get("test", "")))
                if key[2] and key in seen:
                    raise ValueError(
                        f"{key[2]} recorded {key[1]} of {snippet} in {seen[key]} and in {path}: shards must not overlap"
                    )
                seen[key] = str(path)
            merged["snippets"].setdefault(snippet, []).extend(records_)
        merged["unrecorded_checks"] += doc.get("unrecorded_checks") or []
        merged["wall_seconds"] = max(merged.get("wall_seconds") or 0, doc.get("wall_seconds") or 0)
    for records_ in merged["snippets"].values():
        records_.sort(key=lambda r: (r["check"], r.get("test", "")))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return merged
