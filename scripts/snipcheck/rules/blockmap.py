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


def row_anchors(page: Path) -> set[str]:
    """The anchors of an errata page's rows: ids on table rows (`| … { #id } | …`). A section heading's id is
    not a row: a block or heading that cites it names no reason for its change."""
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("|")]
    return {m["id"] for line in rows for pattern in (ATTR_ID, HTML_ID) for m in pattern.finditer(line)}


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the block map: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), dict):
        raise ValueError(f"{path}: expected a mapping with `blocks:` (number → entry)")
    return data


def entry_targets(entry: dict[str, Any]) -> list[str]:
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
        lang: row_anchors(page)
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
                        f"{where}: errata anchor #{one} is no row of docs/{page} — cite a row's own anchor (a "
                        f"section heading's does not count), or add `{{ #{one} }}` to the row that describes the change"
                    )
        if status == "diagram":
            page = docs / str(entry.get("page", ""))
            if not entry.get("page") or not page.is_file() or "```mermaid" not in page.read_text("utf-8"):
                problems.append(f"{where}: diagram page {entry.get('page')!r} has no mermaid diagram")
            continue
        targets = entry_targets(entry)
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
    on_pages = {text for page in chapter_pages(docs) for _, text in headings(page.read_text(encoding="utf-8"))}
    errata_ids = [row_anchors(docs / name) for name in ("errata.md", "errata.en.md")]
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
            problems.append(
                f"{map_file}: heading {text!r} → #{replaced[text]} is not a row anchor on both errata pages"
            )
    return problems, found, listed


# ---- placement: the mapped target is the block that stands where the original's stood -------------------

NOT_CHAPTER = frozenset({"errata.md", "verification.md", "image-kit.md"})  # pages of this edition, not the chapter


def chapter_pages(docs: Path) -> list[Path]:
    """The Russian pages that hold the chapter (the edition's own errata, verification and image-kit pages
    are not part of it)."""
    return [
        p
        for p in sorted(docs.rglob("*.md"))
        if not p.name.endswith(".en.md") and p.relative_to(docs).as_posix() not in NOT_CHAPTER
    ]


def _line_key(text: str) -> str:
    """A prose line compared across the original and a page: headings by their text (levels and `{ #id }`
    dropped), everything else with its whitespace collapsed."""
    if h := HEADING.match(text):
        return "# " + ATTR_ID.sub("", h[2]).strip()
    return " ".join(text.split())


@dataclass(frozen=True)
class _Shown:
    """One code block on a chapter page: where it is, the section (heading text) it is under, the prose line
    just before it, and what it includes."""

    page: Path
    line: int
    heading: str
    lead: str
    targets: tuple[str, ...]


def _shown_blocks(docs: Path) -> list[_Shown]:
    from ..model import pages

    shown: list[_Shown] = []
    for page in chapter_pages(docs):
        parsed = pages.parse(page)
        prose = dict(parsed.prose)
        for block in parsed.blocks:
            heading, lead = "", ""
            for no in range(block.line - 1, 0, -1):
                text = prose.get(no)
                if text is None:  # inside an earlier block: its closing fence is the lead
                    lead = lead or "```"
                    continue
                key = _line_key(text)
                if key and not lead:
                    lead = key
                if key.startswith("# "):
                    heading = key
                    break
            shown.append(_Shown(page, block.line, heading, lead, tuple(i.target for i in block.includes)))
    return shown


def _original_places(original: Path) -> dict[int, tuple[str, str]]:
    """Block number -> (heading text, prose line just before it) in the original."""
    lines = original.read_text(encoding="utf-8").splitlines()
    fences = {b.line: b.n for b in original_blocks(original)}
    in_block: set[int] = set()
    for block in original_blocks(original):
        in_block.update(range(block.line, block.line + block.text.count("\n") + 3))
    places: dict[int, tuple[str, str]] = {}
    for line, n in fences.items():
        heading, lead = "", ""
        for no in range(line - 1, 0, -1):
            if no in in_block:
                lead = lead or "```"
                continue
            key = _line_key(lines[no - 1])
            if key and not lead:
                lead = key
            if key.startswith("# "):
                heading = key
                break
        places[n] = (heading, lead)
    return places


def check_placement(original: Path, map_file: Path, docs: Path) -> list[str]:
    """Each mapped block's targets are exactly what the page shows in the code block that stands where the
    original block stood: the first code block after the same prose line under the same heading (or, when the
    page rewrote that line, a code block under the same heading that includes exactly those targets)."""
    try:
        entries: dict[int, dict[str, Any]] = load(map_file)["blocks"]
    except ValueError as exc:
        return [str(exc)]
    shown = _shown_blocks(docs)
    places = _original_places(original)
    problems: list[str] = []
    for n, (heading, lead) in sorted(places.items()):
        entry = entries.get(n)
        if not isinstance(entry, dict) or entry.get("status") in ("diagram", "dropped"):
            continue
        targets = tuple(entry_targets(entry))
        where = f"{map_file}: block {n} (original line {entry.get('line')})"
        section = [s for s in shown if s.heading == heading]
        if not section:
            problems.append(f"{where}: no chapter page has the heading {heading[2:]!r} the block stands under")
            continue
        with_code = [s for s in section if s.targets]
        runs = [i for i in range(len(with_code)) if _run_shows(with_code, i, targets)]
        after_lead = [i for i, s in enumerate(with_code) if s.lead == lead]
        if after_lead and lead != "```":
            i = next((i for i in after_lead if i in runs), after_lead[0])
            if i not in runs:
                there = with_code[i]
                problems.append(
                    f"{where}: the code block after {lead!r} ({rel_page(there.page, docs)}:{there.line}) shows "
                    f"{' + '.join(there.targets)}; the map says {' + '.join(targets)} — map the block that stands "
                    f"where the original's stood, with the sections the page includes"
                )
        elif not runs:
            found = [f"{rel_page(s.page, docs)}:{s.line} {' + '.join(s.targets)}" for s in with_code]
            problems.append(
                f"{where}: no code block (or run of consecutive code blocks) under {heading[2:]!r} includes exactly "
                f"{' + '.join(targets)} (the section shows: {'; '.join(found) or 'nothing'}) — map what the page shows"
            )
    return problems


def _run_shows(blocks: list[_Shown], start: int, targets: tuple[str, ...]) -> bool:
    """The code blocks from `start` on, taken in order, include exactly `targets` (one original block may be
    shown as several: the ❌ and the ✅ half with prose between them)."""
    got: tuple[str, ...] = ()
    for block in blocks[start:]:
        got += block.targets
        if got == targets:
            return True
        if targets[: len(got)] != got:
            return False
    return False


def rel_page(page: Path, docs: Path) -> str:
    return f"docs/{page.relative_to(docs).as_posix()}"
