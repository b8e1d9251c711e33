"""The publishing rule: a site for readers is built only from a complete report of this commit.

Set SNIPCHECK_PUBLISH=1 (CI and the Pages workflow do) and the build fails unless the run report
exists, was written at the commit being built, and holds a result for every declared check of
every snippet a page includes. Without it (mkdocs serve, a local build) the pages say plainly
what was not run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..model import pages
from ..model.manifest import Snippet
from ..model.paths import rel
from ..run.results import Results

ENV = "SNIPCHECK_PUBLISH"
NEEDS_REGISTRY = re.compile(r"needs (a container )?registry")


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
    includes = pages.all_includes(docs, snippets_dir)
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
        out += [
            f"{rel(inc.page)}:{inc.line}: snippets/{inc.path}: `{c}` was skipped ({why}) in a run with "
            f"SNIPCHECK_IMAGES={mode} — {todo}"
            for c, why, mode, todo in _unacceptable_skips(snip, results)
        ]
        if missing:
            out.append(
                f"{rel(inc.page)}:{inc.line}: snippets/{inc.path} has no result for "
                f"{', '.join(missing)} in {rel(results.path)} — run the tiers of those checks"
            )
    return out


def _unacceptable_skips(snip: Snippet, results: Results) -> list[tuple[str, str, str, str]]:
    """Checks of `snip` whose only results are skips that a published page may not carry (review M8): a
    skip is acceptable only when the image needs a registry and the run had none (SNIPCHECK_IMAGES other
    than `registry`); in a registry run the same skip means a pull failed, and any other skip means a
    check did not run."""
    mode = str(results.meta.get("image_source_mode", "auto"))
    out = []
    for check in snip.checks:
        recs = results.records(snip.path, check)
        if not recs or any(r.get("result") != "skipped" for r in recs):
            continue
        why = str(recs[0].get("reason", "no reason recorded"))
        if not NEEDS_REGISTRY.search(why):
            out.append((check, why, mode, "a published page shows only checks that ran; fix what skipped it"))
        elif mode == "registry":
            out.append((check, why, mode, "the registry run must build it: see why its pull failed and re-run"))
    return out
