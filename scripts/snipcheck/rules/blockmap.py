"""The block map: every code block and heading of the original chapter, tied to what replaced it.

`original/chapter-4.7.ru.md` is the pinned source text; `original/blocks.yaml` maps it:

    blocks:
      12: {line: 514, lang: dockerfile, to: docker/x/Dockerfile:section, status: comments}
      13: {line: 522, lang: bash, to: [a.sh:one, b.sh:two], status: changed, errata: docker-quoting}
      40: {line: 1061, lang: '', status: diagram, page: production.md, errata: diagrams}
      77: {line: 2311, lang: go, status: dropped, errata: k8s-automaxprocs}
    headings:
      replaced: {"Original heading text": errata-anchor}

Statuses (exactly one is true of each pair, and the rules check which):

- `same`      the snippet text equals the block after whitespace normalisation;
- `comments`  they differ, but only in comments and whitespace (snippet comments are English);
- `changed`   the code differs — `errata:` names the rows (anchors) on the errata page that say why;
- `diagram`   the text diagram became a mermaid diagram on `page:`, listed in `errata:`;
- `dropped`   the block has no counterpart, listed in `errata:`.

Each rule returns problems as strings naming the block, its line in the original and what to do, so the
tests can run the same rules on broken copies in a temporary directory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..i18n import render as rendering
from ..i18n.syntax import normalise
from ..model.pages import FENCE

STATUSES = ("same", "comments", "changed", "diagram", "dropped")
NEEDS_ERRATA = {"changed", "diagram", "dropped"}
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
ATTR_ID = re.compile(r"\{:?\s*[^}]*#(?P<id>[A-Za-z0-9_-]+)[^}]*\}")
HTML_ID = re.compile(r'\bid="(?P<id>[A-Za-z0-9_-]+)"')


@dataclass(frozen=True)
class Block:
    n: int
    line: int  # line of the opening fence, 1-based
    lang: str
    text: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def original_blocks(original: Path) -> list[Block]:
    """Fenced code blocks of the original, numbered from 1 in order."""
    blocks: list[Block] = []
    lines = original.read_text(encoding="utf-8").splitlines()
    open_at: tuple[int, str, str] | None = None
    body: list[str] = []
    for no, text in enumerate(lines, start=1):
        m = FENCE.match(text)
        if open_at is None:
            if m:
                open_at = (no, m["fence"], m["info"].strip())
                body = []
        elif m and m["fence"][0] == open_at[1][0] and len(m["fence"]) >= len(open_at[1]) and not m["info"].strip():
            blocks.append(
                Block(len(blocks) + 1, open_at[0], open_at[2].split()[0] if open_at[2] else "", "\n".join(body))
            )
            open_at = None
        else:
            body.append(text)
    return blocks


def headings(markdown: str) -> list[tuple[int, str]]:
    """(line, text) of every ATX heading outside code fences; `{ #id }` attribute lists dropped."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    for no, text in enumerate(markdown.splitlines(), start=1):
        m = FENCE.match(text)
        if m and (fence is None or (m["fence"][0] == fence[0] and not m["info"].strip())):
            fence = m["fence"] if fence is None else None
            continue
        if fence is None and (h := HEADING.match(text)):
            found.append((no, ATTR_ID.sub("", h[2]).strip()))
    return found


def snippet_text(snippets: Path, target: str) -> str:
    """What `--8<-- "target"` renders on an English page (the section or the whole file, markers dropped)."""
    path, sep, section = target.partition(":")
    if not (snippets / path).is_file():
        raise LookupError(f"snippets/{path} does not exist")
    return rendering.as_rendered(path, section if sep else None, "en", snippets)


def anchors(page: Path) -> set[str]:
    """Explicit ids on a page: `{ #id }` attribute lists (headings or inline) and HTML `id="…"`."""
    text = page.read_text(encoding="utf-8")
    return {m["id"] for m in ATTR_ID.finditer(text)} | {m["id"] for m in HTML_ID.finditer(text)}


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the block map: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), dict):
        raise ValueError(f"{path}: expected a mapping with `blocks:` (number → entry)")
    return data


def _targets(entry: dict[str, Any]) -> list[str]:
    to = entry.get("to")
    if to is None:
        return []
    return [to] if isinstance(to, str) else list(to)


def classify(block: Block, replacement: str) -> str:
    """`same`, `comments` or `changed`: what is actually true of the pair."""
    kind = block.lang
    if normalise(block.text, kind, comments=True) == normalise(replacement, kind, comments=True):
        return "same"
    if normalise(block.text, kind) == normalise(replacement, kind):
        return "comments"
    return "changed"


@dataclass
class Result:
    problems: list[str]
    counts: dict[str, int]


def check(original: Path, map_file: Path, snippets: Path, docs: Path) -> Result:
    """Every rule of the block map; problems empty when the map is complete and true."""
    problems: list[str] = []
    counts = dict.fromkeys(STATUSES, 0)
    try:
        data = load(map_file)
    except ValueError as exc:
        return Result([str(exc)], counts)
    pinned = data.get("sha256")
    if pinned != sha256(original):
        problems.append(
            f"{original}: sha256 is {sha256(original)}, the map pins {pinned} — the original must "
            f"never be edited; restore it from upstream commit 2ee186e"
        )
    errata_ids = {
        lang: anchors(page)
        for lang, page in (("ru", docs / "errata.md"), ("en", docs / "errata.en.md"))
        if page.is_file()
    }
    if set(errata_ids) != {"ru", "en"}:
        problems.append(f"{docs}/errata.md and errata.en.md must both exist")
    entries: dict[int, dict[str, Any]] = data["blocks"]
    blocks = original_blocks(original)
    for extra in sorted(set(entries) - {b.n for b in blocks}, key=str):
        problems.append(f"{map_file}: block {extra} — the original has only {len(blocks)} code blocks")
    for block in blocks:
        where = f"{map_file}: block {block.n} (original line {block.line}, {block.lang or 'text'})"
        entry = entries.get(block.n)
        if not isinstance(entry, dict):
            problems.append(
                f"{where}: not mapped — add `{block.n}: {{line: {block.line}, lang: "
                f"{block.lang!r}, to: path:section, status: ...}}`"
            )
            continue
        if entry.get("line") != block.line:
            problems.append(f"{where}: the map says line {entry.get('line')} — renumbered? fix the entry")
        status = entry.get("status")
        if status not in STATUSES:
            problems.append(f"{where}: status {status!r} — use one of {', '.join(STATUSES)}")
            continue
        counts[status] += 1
        anchor = entry.get("errata")
        anchor_list = [anchor] if isinstance(anchor, str) else list(anchor or [])
        if status in NEEDS_ERRATA:
            if not anchor_list:
                problems.append(f"{where}: status {status} needs `errata: <anchor>` naming its errata row")
        elif anchor:
            problems.append(f"{where}: status {status} with `errata: {anchor}` — a listed change must say `changed`")
        for one in anchor_list:
            for lang, ids in errata_ids.items():
                if one not in ids:
                    page = "errata.md" if lang == "ru" else "errata.en.md"
                    problems.append(
                        f"{where}: errata anchor #{one} is not on docs/{page} — add `{{ #{one} }}` to its row there"
                    )
        if status == "diagram":
            page = docs / str(entry.get("page", ""))
            if not entry.get("page") or not page.is_file() or "```mermaid" not in page.read_text("utf-8"):
                problems.append(f"{where}: diagram page {entry.get('page')!r} has no mermaid diagram")
            continue
        targets = _targets(entry)
        if status == "dropped":
            if targets:
                problems.append(f"{where}: dropped, yet maps to {targets} — choose one")
            continue
        if not targets:
            problems.append(f"{where}: status {status} needs `to: path[:section]` (or a list)")
            continue
        texts: list[str] = []
        for target in targets:
            try:
                texts.append(snippet_text(snippets, target))
            except LookupError as exc:
                problems.append(f"{where}: maps to {target}: {exc} — fix the path or section")
        if len(texts) != len(targets):
            continue
        actual = classify(block, "\n".join(texts))
        if actual == status:
            continue
        if actual == "changed":
            problems.append(
                f"{where}: {' + '.join(targets)} differs from the original beyond comments and "
                f"whitespace, and the map gives no errata anchor — list the change on the errata "
                f"page and set `status: changed, errata: <anchor>`"
            )
        elif status == "changed":
            problems.append(
                f"{where}: the map claims a change, but {' + '.join(targets)} differs only in "
                f"{'nothing' if actual == 'same' else 'comments/whitespace'} — set `status: "
                f"{actual}` and drop the errata anchor"
            )
        else:
            problems.append(f"{where}: status {status}, but the pair is `{actual}` — set `status: {actual}`")
    return Result(problems, counts)


def check_headings(original: Path, map_file: Path, docs: Path) -> tuple[list[str], int, int]:
    """Every heading of the original is a heading of a Russian page, or listed as replaced.

    Returns (problems, headings on a page, headings replaced)."""
    try:
        replaced: dict[str, str] = (load(map_file).get("headings") or {}).get("replaced") or {}
    except ValueError as exc:
        return [str(exc)], 0, 0
    on_pages = {
        text
        for page in sorted(docs.rglob("*.md"))
        if not page.name.endswith(".en.md")
        for _, text in headings(page.read_text(encoding="utf-8"))
    }
    errata_ids = [anchors(docs / name) for name in ("errata.md", "errata.en.md")]
    problems: list[str] = []
    found = listed = 0
    for line, text in headings(original.read_text(encoding="utf-8")):
        if text in on_pages:
            found += 1
            if text in replaced:
                problems.append(f"{map_file}: heading {text!r} is on a page, yet listed as replaced — remove it")
            continue
        if text not in replaced:
            problems.append(
                f"{original}:{line}: heading {text!r} is on no Russian page — keep it, or list it "
                f"under headings.replaced with its errata anchor"
            )
            continue
        listed += 1
        if not all(replaced[text] in ids for ids in errata_ids):
            problems.append(f"{map_file}: heading {text!r} → #{replaced[text]} is not an anchor on both errata pages")
    return problems, found, listed
