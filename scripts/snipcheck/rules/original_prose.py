"""The original's prose on the Russian chapter pages, sentence by sentence.

Every sentence of the original outside code blocks and its table of contents (list items and table rows count
as sentences of their own) must be on a Russian chapter page as written — compared after the markup is set
aside (emphasis, inline code marks, link targets, the `> 💡 **Совет**:` → `!!! tip "Совет"` admonition form,
whitespace) — or be listed in `original/prose.yaml` with the errata row whose fix changed it:

    sentences:
      "Финальный образ: ~850 MB": original-estimates

Listed sentences must really be missing (a stale entry fails) and name a row anchor of both errata pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import blockmap

TOC_HEADING = "## Содержание"
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(A-ZА-ЯЁ0-9])")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
ADMONITION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s*\w+(?:\s+"([^"]*)")?\s*$')
QUOTE_TIP = re.compile(r"^>\s*(?:💡|⚠️|❗|ℹ️|📝)?\s*")
# `> 💡 **Для C# разработчиков**: текст` became an admonition titled "Для C# разработчиков" with the text as its
# body: the title is compared as a unit of its own
TIP_TITLE = re.compile(r"^\*\*([^*]+)\*\*:\s*")
LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
ATTRS = re.compile(r"\s*\{[:#.][^}]*\}")


def plain(text: str) -> str:
    """Markdown reduced to the words a reader reads."""
    text = LINK.sub(r"\1", text)
    text = ATTRS.sub("", text)
    text = re.sub(r"[*`]+", "", text)
    text = text.replace("\u00a0", " ")
    return " ".join(text.split())


def sentences_of(line: str) -> list[str]:
    return [s for s in (plain(part) for part in SENTENCE_END.split(line)) if len(s) >= 3]


@dataclass
class Result:
    problems: list[str] = field(default_factory=list)
    sentences: int = 0
    verbatim: int = 0
    listed: dict[str, int] = field(default_factory=dict)


def original_units(original: Path) -> list[tuple[int, str]]:
    """(line, sentence) of the original's prose: code blocks, the table of contents and headings left out
    (headings have their own rule), list items and table cells kept."""
    lines = original.read_text(encoding="utf-8").splitlines()
    in_code: set[int] = set()
    for block in blockmap.original_blocks(original):
        in_code.update(range(block.line, block.line + block.text.count("\n") + 3))
    units: list[tuple[int, str]] = []
    in_toc = False
    for no, line in enumerate(lines, start=1):
        if no in in_code or not line.strip() or line.strip() == "---":
            continue
        if line.startswith("#"):
            in_toc = line.strip() == TOC_HEADING
            continue
        if in_toc:
            continue
        if line.lstrip().startswith("|"):
            cells = [c for c in line.strip().strip("|").split("|") if c.strip() and not set(c.strip()) <= set("-: ")]
            units += [(no, plain(c)) for c in cells if len(plain(c)) >= 3]
            continue
        text = LIST_MARK.sub("", QUOTE_TIP.sub("", line))
        if line.lstrip().startswith(">") and (title := TIP_TITLE.match(text)):
            units.append((no, plain(title[1])))
            text = text[title.end() :]
        units += [(no, s) for s in sentences_of(text)]
    return units


def page_text(docs: Path) -> str:
    """All Russian chapter pages' prose as one plain string (admonition titles kept as text)."""
    from ..model import pages

    out = []
    for page in blockmap.chapter_pages(docs):
        for _, line in pages.parse(page).prose:
            m = ADMONITION.match(line)
            if m:
                out.append(m[1] or "")
                continue
            if line.lstrip().startswith("|"):
                out += [plain(c) for c in line.strip().strip("|").split("|")]
                continue
            out.append(plain(LIST_MARK.sub("", QUOTE_TIP.sub("", line.strip()))))
    return " ".join(" ".join(out).split())


def _load(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    listed = data.get("sentences") or {}
    if not isinstance(listed, dict):
        raise ValueError(f"{path}: `sentences:` must map an original sentence to an errata row anchor")
    return {plain(str(k)): str(v) for k, v in listed.items()}


def check(original: Path, listed_file: Path, docs: Path) -> Result:
    result = Result()
    try:
        listed = _load(listed_file)
    except ValueError as exc:
        result.problems.append(str(exc))
        return result
    text = page_text(docs)
    anchors = blockmap.row_anchors(docs / "errata.md") & blockmap.row_anchors(docs / "errata.en.md")
    used: set[str] = set()
    for line, sentence in original_units(original):
        result.sentences += 1
        if sentence in text:
            result.verbatim += 1
            continue
        anchor = listed.get(sentence)
        if anchor is None:
            result.problems.append(
                f"{original.name}:{line}: {sentence!r} is on no Russian chapter page as written — keep the author's "
                f"sentence, or list it in {listed_file.name} with the errata row of the fix that changed it"
            )
            continue
        used.add(sentence)
        result.listed[anchor] = result.listed.get(anchor, 0) + 1
        if anchor not in anchors:
            result.problems.append(
                f"{listed_file.name}: {sentence[:60]!r}… names #{anchor}, which is no row anchor of both errata pages"
            )
    for sentence in sorted(set(listed) - used):
        result.problems.append(
            f"{listed_file.name}: {sentence[:60]!r}… is listed, but the page has it as written (or the original "
            f"has no such sentence) — remove the entry"
        )
    return result
