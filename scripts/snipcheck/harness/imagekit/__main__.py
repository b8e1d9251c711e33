"""CLI: python -m snipcheck kit ensure-all | ensure REF... | table | mode | remove [--dry-run]   [--rebuild]

`remove` deletes the kit's images only: snipcheck.local/..., snipcheck-kit/... and upstream names an older
kit tagged over, each carrying the label io.snipcheck.kit (never an image it did not make)."""

from __future__ import annotations

import sys
import time

from ..docker import cli as docker
from .build import all_refs, ensure, remove
from .fidelity import table
from .recipes import MODE_ENV
from .source import mode, requested_mode


def _cli_ensure(refs: list[str], rebuild: bool = False) -> int:
    problem = docker.engine_problem()
    if problem:
        print(f"imagekit: {problem}", file=sys.stderr)
        return 2
    start = time.monotonic()
    print(f"imagekit: mode {mode()} ({MODE_ENV}={requested_mode()}); {len(refs)} image(s)")
    sources = ensure(refs, rebuild=rebuild)
    failed = 0
    for ref, src in sources.items():
        action = "built" if src.built and src.kind != "registry" else "pulled" if src.built else "up to date"
        if not src.available:
            action = "FAILED"
            failed += 1
        print(f"  {ref:48s} {src.seconds:7.1f}s  {action:10s} {src.describe()}")
    print(f"imagekit: done in {time.monotonic() - start:.1f}s wall, {failed} unavailable")
    return 1 if failed else 0


def _cli_remove(dry_run: bool) -> int:
    problem = docker.engine_problem()
    if problem:
        print(f"imagekit: {problem}", file=sys.stderr)
        return 2
    names = remove(dry_run=dry_run)
    for name in names:
        print(f"  {'would remove' if dry_run else 'removed'} {name}")
    print(f"imagekit: {len(names)} kit image name(s) {'to remove' if dry_run else 'removed'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rebuild = "--rebuild" in argv
    dry_run = "--dry-run" in argv
    argv = [a for a in argv if a not in ("--rebuild", "--dry-run")]
    cmd = argv[0] if argv else "ensure-all"
    if cmd == "ensure-all":
        return _cli_ensure(all_refs(), rebuild)
    if cmd == "ensure":
        return _cli_ensure(argv[1:], rebuild)
    if cmd == "table":
        print(table())
        return 0
    if cmd == "mode":
        print(mode())
        return 0
    if cmd == "remove":
        return _cli_remove(dry_run)
    print(
        "usage: python -m snipcheck kit [ensure-all | ensure REF... | table | mode | remove [--dry-run]] [--rebuild]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
