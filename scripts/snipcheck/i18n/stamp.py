"""Record which version of the Russian page an English translation was made from.

    PYTHONPATH=scripts python3 -m snipcheck stamp [PAGES...]          # stamp (default: every docs/**/*.en.md)
    PYTHONPATH=scripts python3 -m snipcheck stamp --check [PAGES...]  # exit 1 listing stale or unstamped pages

Stamping writes `source_sha256: <sha256 of docs/x.md without its front matter>` into the YAML front
matter of docs/x.en.md (adding the front matter if needed) and touches nothing else. Run it only after
the translation has been brought up to date with the Russian page. PAGES may name the English page or
its Russian original. Standard library only; idempotent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..model.paths import DOCS
from . import parity


def english_targets(names: list[str], docs: Path) -> list[Path]:
    if not names:
        return parity.english_pages(docs)
    out = []
    for name in names:
        page = Path(name).resolve()
        out.append(page if parity.is_english(page) else parity.english_for(page))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m snipcheck stamp", description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", help="English pages (or their Russian originals); default: all")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if any page is stale")
    ap.add_argument("--docs", type=Path, default=DOCS, help="the docs directory (default: %(default)s)")
    args = ap.parse_args(argv)
    docs = args.docs.resolve()

    failed = 0
    for en in english_targets(args.pages, docs):
        ru = parity.russian_for(en)
        name = parity.show(en, docs)
        if not en.is_file() or not ru.is_file():
            missing = en if not en.is_file() else ru
            print(f"ERROR   {name}: {parity.show(missing, docs)} does not exist")
            failed += 1
            continue
        if args.check:
            problem = parity.stamp_problem(en, docs)
            if problem:
                print(f"STALE   {problem}")
                failed += 1
            else:
                print(f"ok      {name}")
            continue
        changed = parity.stamp(en)
        digest = parity.source_hash(ru)
        print(
            f"{'stamped' if changed else 'ok     '} {name}: {parity.STAMP_KEY} {digest[:12]}… "
            f"({parity.show(ru, docs)}){'' if changed else ' — already current'}"
        )
    if not args.pages:
        for ru in parity.russian_pages(docs):
            if not parity.english_for(ru).is_file():
                print(
                    f"MISSING {parity.show(parity.english_for(ru), docs)}: {parity.show(ru, docs)} has no "
                    f"English translation yet"
                )
                failed += args.check
    if failed:
        what = "stale or unstamped" if args.check else "could not be stamped"
        print(f"{failed} page(s) {what}", file=sys.stderr)
        return 1
    return 0
