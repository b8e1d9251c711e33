"""Contributor commands:

    python -m snipcheck comments [--missing|--stale] [DIR]   what the comment catalogs lack or no longer match
    python -m snipcheck changes [BASE] [--write FILE]          what a diff can affect (scripts/test.sh --changed)
    python -m snipcheck merge-reports OUT REPORT...            one report from parallel CI jobs' reports
    python -m snipcheck explain PATH|PAGE:LINE                 pages, manifest entry, checks, tests, last results
    python -m snipcheck cache-state [--write FILE]            what the caches hold (cold / warm / partial)
    python -m snipcheck cpu-account run [--out FILE] -- CMD…  run CMD with process accounting; where the CPU went
    python -m snipcheck cpu-account report FILE               that summary again from an accounting file

Run from scripts/ (or with PYTHONPATH=scripts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .explain import ExplainError, explain
from .i18n import catalog as comment_catalog
from .i18n import comments
from .model.manifest import ManifestError
from .model.paths import BUILD, DOCS, SNIPPETS
from .run import cachestate, changes, cpuaccount
from .run import report as run_report
from .run.results import ReportError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snipcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "comments",
        help="Russian comment catalogs (translations/comments.ru/): missing and stale entries per snippet directory",
    )
    c.add_argument("--missing", action="store_true", help="only comments without Russian text")
    c.add_argument("--stale", action="store_true", help="only catalog entries that match no comment")
    c.add_argument("dir", nargs="?", help="a top-level snippet directory, e.g. docker")
    ch = sub.add_parser("changes", help="the snippets and test modules a diff can affect, and why")
    ch.add_argument("base", nargs="?", help="commit to diff against (default: the merge base with main)")
    ch.add_argument("--write", default=str(BUILD / "selection.json"), help="where to write the selection")
    mr = sub.add_parser("merge-reports", help="merge the reports of parallel CI jobs of one commit")
    mr.add_argument("out")
    mr.add_argument("reports", nargs="+")
    ex = sub.add_parser("explain", help="pages, manifest entry, checks, tests and last results of one snippet")
    ex.add_argument("path", help="snippet path (docker/bad/Dockerfile) or page:line (docs/docker.md:11)")
    cs = sub.add_parser("cache-state", help="what BuildKit, Docker, Go and the Kubernetes cache hold now")
    cs.add_argument("--write", default=str(cachestate.SNAPSHOT), help="where to write the snapshot")
    ca = sub.add_parser("cpu-account", help="where a command's CPU time goes (BSD process accounting; root)")
    ca_sub = ca.add_subparsers(dest="action", required=True)
    ca_run = ca_sub.add_parser("run", help="run a command with process accounting on, then summarise")
    ca_run.add_argument("--out", default=str(BUILD / "cpu-account.pacct"), help="the accounting file")
    ca_run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the command and its arguments")
    ca_rep = ca_sub.add_parser("report", help="summarise an accounting file")
    ca_rep.add_argument("file")
    args = parser.parse_args(argv)
    if args.command == "cpu-account":
        return _cpu_account(args)
    if args.command == "cache-state":
        state = cachestate.write(Path(args.write))
        print(
            f"[cache-state] {state['run_kind']}: {state['images']} images, {state['build_cache_records']} BuildKit "
            f"cache records, Go build cache {state['go_build_cache_bytes'] / 1e6:.0f} MB, "
            f"{len(state['kube_binaries'])} Kubernetes binaries cached"
        )
        return 0
    if args.command == "explain":
        try:
            print(explain(args.path))
        except (ExplainError, ManifestError, ReportError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "changes":
        return changes.main(args.base, Path(args.write))
    if args.command == "merge-reports":
        doc = run_report.merge([Path(r) for r in args.reports], Path(args.out))
        print(
            f"merged {len(args.reports)} report(s): tiers {', '.join(doc['tiers'])}; "
            f"{sum(len(v) for v in doc['snippets'].values())} results -> {args.out}"
        )
        return 1 if doc["unrecorded_checks"] else 0
    report = comments.check(SNIPPETS, comments.page_includes(DOCS, SNIPPETS))
    show_missing = args.missing or not args.stale
    show_stale = args.stale or not args.missing
    groups = []
    if show_missing:
        groups.append(("missing", report.missing))
    if show_stale:
        groups.append(("stale", report.stale))
    if not args.missing and not args.stale:
        groups.append(("code changed by a translation", report.changed_code))
    total = 0
    for title, problems in groups:
        chosen = [
            p
            for p in problems
            if not args.dir
            or f"snippets/{args.dir}/" in p.where
            or p.where.startswith(f"{comments.rel(comment_catalog.CATALOGS)}/{args.dir}.yaml")
            or f"comments.ru/{args.dir}.yaml" in p.where
        ]
        by_dir: dict[str, list[str]] = {}
        for p in chosen:
            key = (
                p.where.split("snippets/", 1)[-1].split("/", 1)[0]
                if "snippets/" in p.where
                else p.where.rsplit("/", 1)[-1].split(".yaml", 1)[0]
            )
            by_dir.setdefault(key, []).append(str(p))
        for d, lines in sorted(by_dir.items()):
            print(f"== {d}: {len(lines)} {title}")
            print("\n".join(lines))
        total += len(chosen)
    print(f"{report.comments} comment lines shown on pages need Russian text; {total} problem(s)", file=sys.stderr)
    return 1 if total else 0


def _cpu_account(args: argparse.Namespace) -> int:
    try:
        if args.action == "report":
            print(cpuaccount.summary(cpuaccount.read(Path(args.file))))
            return 0
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            print("error: name the command to run after --", file=sys.stderr)
            return 2
        out = Path(args.out)
        rc = cpuaccount.run(cmd, out)
        print(f"[cpu-account] {' '.join(cmd)} exited {rc}; accounting file {out}")
        print(cpuaccount.summary(cpuaccount.read(out)))
        return rc
    except (cpuaccount.AccountError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
