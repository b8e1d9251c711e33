"""CLI: python -m snipcheck.imagekit ensure-all | ensure REF... | table | mode   [--rebuild]"""

from __future__ import annotations

import sys
import time

from .. import docker
from .build import all_refs, ensure
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rebuild = "--rebuild" in argv
    argv = [a for a in argv if a != "--rebuild"]
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
    print(
        "usage: python -m snipcheck.imagekit [ensure-all | ensure REF... | table | mode] [--rebuild]", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
