"""The publishing rule: a site for readers is built only from a complete report of this commit.

Set SNIPCHECK_PUBLISH=1 (CI and the Pages workflow do) and the build fails unless the run report
exists, was written at the commit being built, and holds a result for every declared check of
every snippet a page includes. Without it (mkdocs serve, a local build) the pages say plainly
what was not run.
"""

from __future__ import annotations

import os
from pathlib import Path

from .inventory import check_pages
from .manifest import Snippet
from .paths import rel
from .results import Results

ENV = "SNIPCHECK_PUBLISH"


def enabled() -> bool:
    return os.environ.get(ENV, "").strip().lower() in {"1", "true", "yes"}


def problems(
    docs: Path, snippets_dir: Path, snippets: dict[str, Snippet], results: Results, head: str | None
) -> list[str]:
    if not results.present:
        return [
            f"{ENV}=1 but there is no run report at {rel(results.path)} — run `bash scripts/test.sh` "
            f"(or point SNIPCHECK_REPORT at the report of this commit)"
        ]
    out = []
    if head is None:
        out.append("cannot tell which commit is being built (`git rev-parse HEAD` failed) — build from a git checkout")
    if not results.commit:
        out.append(f"{rel(results.path)}: the report records no commit — it predates commit stamping; re-run the suite")
    elif head and results.commit != head:
        out.append(
            f"{rel(results.path)}: the report is from commit {results.commit[:12]}, but this build is "
            f"commit {head[:12]} — re-run the suite on this commit, a published page must not show "
            f"another commit's results"
        )
    includes, _ = check_pages(docs, snippets_dir)
    seen: set[str] = set()
    for inc in includes:
        snip = snippets.get(inc.path)
        if snip is None or inc.path in seen:
            continue
        seen.add(inc.path)
        missing = [
            c
            for c in snip.checks
            if not any(r.get("result") in {"passed", "failed", "skipped"} for r in results.records(snip.path, c))
        ]
        if missing:
            out.append(
                f"{rel(inc.page)}:{inc.line}: snippets/{inc.path} has no result for "
                f"{', '.join(missing)} in {rel(results.path)} — run the tiers of those checks"
            )
    return out
