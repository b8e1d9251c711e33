"""The contributor's commands, one way to call them: `PYTHONPATH=scripts .venv/bin/python -m snipcheck VERB`
(or `cd scripts && ../.venv/bin/python -m snipcheck VERB`).

    explain PATH|PAGE:LINE                 an entry's settings, pages, checks, tests, proof line, last result
    new SNIPPET --page docs/PAGE.md        scaffold a new code block: manifest entry, includes in both languages
    comments [--missing|--stale] [DIR]     what the Russian comment catalogs lack or no longer match
    comments --add SNIPPET ENGLISH RUSSIAN one comment's Russian text into its catalog
    stamp [--check] [PAGES...]             record which Russian page an English translation was made from
    changes [BASE] [--write FILE]          what a diff can affect (scripts/test.sh --changed)
    merge-reports OUT REPORT...            one report from parallel CI jobs' reports
    report-row [REPORT]                    one dated Markdown row for dev/measurements.md, from a report
    kit [ensure-all|ensure REF...|table|mode|remove [--dry-run]] [--rebuild]   the base-image kit
    cache-state [--write FILE]             what the caches hold (cold / warm / partial)
    cpu-account run [--out FILE] -- CMD…   run CMD with process accounting; where the CPU went
    cpu-account report FILE                that summary again from an accounting file

Each verb imports what it needs when it is called: `stamp` needs nothing beyond the standard library, so
it runs with the system python3, without the project's venv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PASS_THROUGH = ("stamp", "kit")  # verbs with a parser of their own: the rest of the command line is theirs


def _parser() -> argparse.ArgumentParser:
    from .model.paths import BUILD

    parser = argparse.ArgumentParser(prog="python -m snipcheck", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explain", help="an entry's settings, pages, checks, tests, proof line and last result")
    ex.add_argument("path", help="snippet path (docker/bad/Dockerfile) or page:line (docs/docker.md:11)")
    nw = sub.add_parser("new", help="scaffold a code block: manifest entry and includes in both languages")
    nw.add_argument("snippet", help="the file under snippets/, e.g. docker/healthcheck/Dockerfile (must exist)")
    nw.add_argument("--page", required=True, help="the Russian page that shows it, e.g. docs/docker.md")
    nw.add_argument("--after", help="heading text or anchor id (both pages) to put the block under (default: the end)")
    nw.add_argument("--after-en", help="heading text of the English page, when --after is the Russian text")
    nw.add_argument("--section", help="a named section of the file to include (default: the whole file)")
    nw.add_argument("--lang", help="the code fence's language (default: from the file's kind)")
    c = sub.add_parser("comments", help="Russian comment catalogs: missing and stale entries per snippet directory")
    c.add_argument("--missing", action="store_true", help="only comments without Russian text")
    c.add_argument("--stale", action="store_true", help="only catalog entries that match no comment")
    c.add_argument("dir", nargs="?", help="a top-level snippet directory, e.g. docker")
    c.add_argument(
        "--add",
        nargs=3,
        metavar=("SNIPPET", "ENGLISH", "RUSSIAN"),
        help="add one comment's Russian text to the snippet's catalog (the comment's English text as shown)",
    )
    sub.add_parser("stamp", help="translation stamps of the English pages (--help for its options)", add_help=False)
    ch = sub.add_parser("changes", help="the snippets and test modules a diff can affect, and why")
    ch.add_argument("base", nargs="?", help="commit to diff against (default: the merge base with main)")
    ch.add_argument("--write", default=str(BUILD / "selection.json"), help="where to write the selection")
    mr = sub.add_parser("merge-reports", help="merge the reports of parallel CI jobs of one commit")
    mr.add_argument("out")
    mr.add_argument("reports", nargs="+")
    rr = sub.add_parser("report-row", help="one Markdown row for dev/measurements.md from a run report")
    rr.add_argument("report", nargs="?", help="the report (default: build/report.json or SNIPCHECK_REPORT)")
    sub.add_parser("kit", help="the base-image kit: ensure-all, ensure REF..., table, mode, remove", add_help=False)
    cs = sub.add_parser("cache-state", help="what BuildKit, Docker, Go and the Kubernetes cache hold now")
    cs.add_argument("--write", default=str(BUILD / "caches-at-start.json"), help="where to write the snapshot")
    ca = sub.add_parser("cpu-account", help="where a command's CPU time goes (BSD process accounting; root)")
    ca_sub = ca.add_subparsers(dest="action", required=True)
    ca_run = ca_sub.add_parser("run", help="run a command with process accounting on, then summarise")
    ca_run.add_argument("--out", default=str(BUILD / "cpu-account.pacct"), help="the accounting file")
    ca_run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the command and its arguments")
    ca_rep = ca_sub.add_parser("report", help="summarise an accounting file")
    ca_rep.add_argument("file")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["stamp"]:
        from .i18n import stamp

        return stamp.main(argv[1:])
    if argv[:1] == ["kit"]:
        from .harness.imagekit.__main__ import main as kit

        return kit(argv[1:])
    args = _parser().parse_args(argv)
    verb = {
        "explain": _explain,
        "new": _new,
        "comments": _comments,
        "changes": _changes,
        "merge-reports": _merge_reports,
        "report-row": _report_row,
        "cache-state": _cache_state,
        "cpu-account": _cpu_account,
    }[args.command]
    return verb(args)


def _explain(args: argparse.Namespace) -> int:
    from .explain import ExplainError, explain
    from .model.manifest import ManifestError
    from .run.results import ReportError

    try:
        print(explain(args.path))
    except (ExplainError, ManifestError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _new(args: argparse.Namespace) -> int:
    from .scaffold import ScaffoldError, scaffold

    try:
        print(scaffold(args.snippet, args.page, after=args.after, after_en=args.after_en, section=args.section,
                       lang=args.lang))  # fmt: skip
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _changes(args: argparse.Namespace) -> int:
    from .run import changes

    return changes.main(args.base, Path(args.write))


def _merge_reports(args: argparse.Namespace) -> int:
    from .run import report

    doc = report.merge([Path(r) for r in args.reports], Path(args.out))
    print(
        f"merged {len(args.reports)} report(s): tiers {', '.join(doc['tiers'])}; "
        f"{sum(len(v) for v in doc['snippets'].values())} results -> {args.out}"
    )
    return 1 if doc["unrecorded_checks"] else 0


def _report_row(args: argparse.Namespace) -> int:
    from .model.paths import REPORT
    from .run.results import ReportError, row

    try:
        print(row(Path(args.report) if args.report else REPORT))
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _cache_state(args: argparse.Namespace) -> int:
    from .run import cachestate

    state = cachestate.write(Path(args.write))
    print(
        f"[cache-state] {state['run_kind']}: {state['images']} images, {state['build_cache_records']} BuildKit "
        f"cache records, Go build cache {state['go_build_cache_bytes'] / 1e6:.0f} MB, "
        f"{len(state['kube_binaries'])} Kubernetes binaries cached"
    )
    return 0


def _comments(args: argparse.Namespace) -> int:
    from .i18n import catalog, comments
    from .model.paths import DOCS, SNIPPETS, rel

    if args.add:
        snippet, english, russian = args.add
        try:
            cat, line = catalog.add_entry(snippet.removeprefix("snippets/"), english, russian)
        except catalog.CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{rel(cat)}:{line}: {english!r} -> {russian!r}")
        return 0
    report = comments.check(SNIPPETS, comments.page_includes(DOCS, SNIPPETS))
    groups = []
    if args.missing or not args.stale:
        groups.append(("missing", report.missing))
    if args.stale or not args.missing:
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
            or p.where.startswith(f"{comments.rel(catalog.CATALOGS)}/{args.dir}.yaml")
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
    from .run import cpuaccount

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
