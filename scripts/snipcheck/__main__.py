"""Command line: `python -m snipcheck explain PATH` (run from the repository root with scripts/ on the path,
e.g. `PYTHONPATH=scripts .venv/bin/python -m snipcheck explain docker/bad/Dockerfile`)."""

from __future__ import annotations

import argparse
import sys

from .explain import ExplainError, explain
from .manifest import ManifestError
from .results import ReportError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snipcheck")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explain", help="pages, manifest entry, checks, tests and last results of one snippet")
    ex.add_argument("path", help="snippet path (docker/bad/Dockerfile) or page:line (docs/docker.md:11)")
    args = parser.parse_args(argv)
    try:
        print(explain(args.path))
    except (ExplainError, ManifestError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
