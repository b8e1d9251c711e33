"""The original's Russian code comments, restored word for word on the Russian pages.

For every block of `original/blocks.yaml` that maps to snippets, each comment line of the original block that
has Russian text must be a comment of what the Russian page shows for that block (the snippets rendered with
the Russian catalogs), with the same words — whitespace and a trailing colon or full stop aside. A line a
listed fix changed, or that the page moved into its prose, is named in `original/comments.yaml`:

    blocks:
      37:
        "Создаём сервер": server-timeouts        # an errata row's anchor: the fix that changed it
        "Из контейнера app": prose               # the page says it in prose, next to the block

Problems name the block, its line in the original and the comment, and say what to do; entries that match
nothing are reported too, so the list cannot grow stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..i18n import render as rendering
from ..i18n.syntax import CYRILLIC, find_comments, syntax_of
from ..model import manifest, pages
from ..model.paths import rel
from . import blockmap

PROSE = "prose"
Render = Callable[[str], str]  # include target -> the text the Russian page shows


def words(text: str) -> str:
    """A comment compared word for word: whitespace collapsed, a trailing `:` or `.` dropped."""
    return " ".join(text.split()).rstrip(":.").strip()


@dataclass
class Result:
    problems: list[str] = field(default_factory=list)
    lines: int = 0  # Russian comment lines in the original's mapped blocks
    restored: int = 0  # of them, shown word for word
    listed: dict[str, int] = field(default_factory=dict)  # anchor or "prose" -> lines


def _russian_target(target: str) -> str:
    path, sep, section = target.partition(":")
    return rendering.as_rendered(path, section if sep else None, "ru")


def _load(path: Path) -> dict[int, dict[str, str]]:
    if not path.is_file():
        return {}
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    blocks = data.get("blocks") or {}
    if not isinstance(blocks, dict):
        raise ValueError(f"{path}: expected `blocks:` mapping block numbers to {{comment: anchor}}")
    return {int(n): {words(k): str(v) for k, v in (entries or {}).items()} for n, entries in blocks.items()}


def check(
    original: Path,
    map_file: Path,
    listed_file: Path,
    docs: Path,
    render: Render = _russian_target,
    kinds: dict[str, str] | None = None,
) -> Result:
    result = Result()
    try:
        entries: dict[int, dict[str, Any]] = blockmap.load(map_file)["blocks"]
        listed = _load(listed_file)
    except ValueError as exc:
        result.problems.append(str(exc))
        return result
    declared_kinds = kinds if kinds is not None else {p: s.kind for p, s in manifest.load().items()}
    anchors = blockmap.row_anchors(docs / "errata.md") & blockmap.row_anchors(docs / "errata.en.md")
    prose = {
        page: " ".join(" ".join(line for _, line in pages.parse(page).prose).split())
        for page in blockmap.chapter_pages(docs)
    }
    used: set[tuple[int, str]] = set()
    for block in blockmap.original_blocks(original):
        entry = entries.get(block.n)
        targets = blockmap.entry_targets(entry) if isinstance(entry, dict) else []
        if not targets:
            continue
        path = targets[0].partition(":")[0]
        kind = syntax_of(path, declared_kinds.get(path, ""))
        shown = {words(c.text) for t in targets for c in find_comments(render(t), kind)}
        where = f"{rel(map_file)}: block {block.n} (original line {block.line})"
        for comment in find_comments(block.text, kind):
            if not CYRILLIC.search(comment.text):
                continue
            text = words(comment.text)
            result.lines += 1
            if text in shown:
                result.restored += 1
                continue
            reason = listed.get(block.n, {}).get(text)
            if reason is None:
                result.problems.append(
                    f"{where}: the original's comment {comment.text.strip()!r} is not on the Russian page word for "
                    f"word — restore it in translations/comments.ru (the catalog entry of "
                    f"{' + '.join(targets)}), or, if a listed fix changed it, name that errata row in "
                    f"{rel(listed_file)}"
                )
                continue
            used.add((block.n, text))
            result.listed[reason] = result.listed.get(reason, 0) + 1
            if reason == PROSE:
                if not any(text in body for body in prose.values()):
                    result.problems.append(
                        f"{where}: {comment.text.strip()!r} is listed as moved into the prose, but no chapter page "
                        f"says it — restore it as a comment"
                    )
            elif reason not in anchors:
                result.problems.append(
                    f"{where}: {comment.text.strip()!r} is listed with #{reason}, which is no row anchor of both "
                    f"errata pages — cite the row of the fix that changed it"
                )
    for n, comments in sorted(listed.items()):
        for text in comments:
            if (n, text) not in used:
                result.problems.append(
                    f"{rel(listed_file)}: block {n}: {text!r} is listed, but no such Russian comment of the original "
                    f"is missing from the page — remove the entry"
                )
    return result
