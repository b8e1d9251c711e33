"""The errata page reads in the chapter's order: within each section, the rows follow the place in the original
where the difference they describe first occurs, and both languages list the same rows in the same order.

A row's place is the first line of the original that cites it: a block of original/blocks.yaml naming it in
`errata:`, a sentence of original/prose.yaml or a comment of original/comments.yaml listed with it. Rows no
original line cites (general notes, this edition's additions) keep their place after the row they follow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from . import blockmap, original_prose

ROW_ANCHOR = re.compile(r"\{\s*#([\w-]+)\s*\}")


def places(original: Path, map_file: Path, prose_file: Path, comments_file: Path) -> dict[str, int]:
    """Row anchor -> the first line of the original that cites it."""
    first: dict[str, int] = {}

    def cite(anchor: str, line: int) -> None:
        first[anchor] = min(first.get(anchor, line), line)

    blocks: dict[int, dict[str, Any]] = blockmap.load(map_file)["blocks"]
    for entry in blocks.values():
        anchors = entry.get("errata") or []
        for anchor in [anchors] if isinstance(anchors, str) else anchors:
            cite(anchor, int(entry["line"]))
    if prose_file.is_file():
        listed = (yaml.safe_load(prose_file.read_text(encoding="utf-8")) or {}).get("sentences") or {}
        listed = {original_prose.plain(str(k)): str(v) for k, v in listed.items()}
        for line, sentence in original_prose.original_units(original):
            if sentence in listed:
                cite(listed[sentence], line)
    if comments_file.is_file():
        listed_comments = (yaml.safe_load(comments_file.read_text(encoding="utf-8")) or {}).get("blocks") or {}
        for n, comments in listed_comments.items():
            for reason in (comments or {}).values():
                if reason != "prose" and int(n) in blocks:
                    cite(str(reason), int(blocks[int(n)]["line"]))
    return first


def sections(page: Path) -> list[tuple[str, list[str]]]:
    """(section heading, the anchors of its table rows in order) for each `## ` section of an errata page."""
    out: list[tuple[str, list[str]]] = []
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            out.append((line[3:].strip(), []))
        elif out and line.startswith("| ") and " | " in line:
            m = ROW_ANCHOR.search(line.split(" | ", 1)[0])
            if m:
                out[-1][1].append(m[1])
    return out


def check(docs: Path, first: dict[str, int]) -> list[str]:
    problems = []
    ru, en = sections(docs / "errata.md"), sections(docs / "errata.en.md")
    for (title, rows), (en_title, en_rows) in zip(ru, en, strict=False):
        if rows != en_rows:
            problems.append(f"docs/errata.en.md, section {en_title!r}: rows {en_rows} — not the Russian order {rows}")
        last_anchor, last = None, 0
        for anchor in rows:
            place = first.get(anchor)
            if place is None:
                continue
            if place < last:
                problems.append(
                    f"docs/errata.md, section {title!r}: #{anchor} (original line {place}) comes after "
                    f"#{last_anchor} (line {last}) — put the rows in the chapter's order"
                )
            else:
                last_anchor, last = anchor, place
    if len(ru) != len(en):
        problems.append(f"docs/errata.md has {len(ru)} sections, docs/errata.en.md {len(en)}")
    return problems


def reorder(page: Path, order: list[list[str]]) -> str:
    """The page with each section's table rows in the given anchor order (rows without an anchor, and every
    other line, stay where they are)."""
    lines = page.read_text(encoding="utf-8").split("\n")
    section = -1
    rows: dict[int, dict[str, str]] = {}
    slots: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if line.startswith("## "):
            section += 1
        elif section >= 0 and line.startswith("| ") and " | " in line:
            m = ROW_ANCHOR.search(line.split(" | ", 1)[0])
            if m:
                rows.setdefault(section, {})[m[1]] = line
                slots.setdefault(section, []).append(i)
    for s, wanted in enumerate(order):
        for i, anchor in zip(slots.get(s, []), wanted, strict=True):
            lines[i] = rows[s][anchor]
    return "\n".join(lines)


def chapter_order(rows: list[str], first: dict[str, int]) -> list[str]:
    """`rows` sorted by their place in the original; a row no line cites stays after the row it follows."""
    keyed: list[tuple[int, int, str]] = []
    last = 0
    for i, anchor in enumerate(rows):
        last = first.get(anchor, last)
        keyed.append((last, i, anchor))
    return [anchor for _, _, anchor in sorted(keyed)]
