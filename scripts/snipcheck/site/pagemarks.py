"""Where the build puts generated things into a page's markdown.

Two jobs, both on the markdown mkdocs hands to hooks (front matter already removed):
- `mark_blocks`: after the closing fence of every included code block, a token paragraph with an
  anchor id (`SNIPCHECKTOKEN3X` + `{: #proof-... }`), which the hook later swaps for the proof line. The
  includes are found by the one page reader (snipcheck.model.pages.includes), so the site and
  the inventory tests agree on what a code block is.
- `placeholders`: every `{{ name args... }}` with the source file and line, for the hook to resolve.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..model import pages
from ..model.pages import FENCE, Include

TOKEN = "SNIPCHECKTOKEN"
PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[a-z][a-z-]*)(?P<args>(?:\s+[^}\s]+)*)\s*\}\}")


class PageError(ValueError):
    """A page asks for something the build cannot give; the message starts with file:line."""


@dataclass
class Block:
    token: str
    anchor: str
    includes: list[Include]


@dataclass(frozen=True)
class Placeholder:
    name: str
    args: list[str]
    where: str  # "docs/x.md:12"


def line_offset(source: str, markdown: str) -> int:
    """Lines of front matter mkdocs removed: source line = markdown line + offset."""
    return max(0, len(source.splitlines()) - len(markdown.splitlines()))


def anchor_for(inc: Include, taken: set[str]) -> str:
    base = "proof-" + re.sub(r"[^a-z0-9]+", "-", f"{inc.path} {inc.section or ''}".lower()).strip("-")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


_GROUPS: dict[tuple[str, int], list[tuple[int, list[Include]]]] = {}


def fence_groups(page: Path) -> list[tuple[int, list[Include]]]:
    """Included code blocks of a page in order: (line of the closing fence, includes in it)."""
    key = (str(page), page.stat().st_mtime_ns)
    if key not in _GROUPS:  # the verification page asks for every page, each page for itself
        _GROUPS[key] = _fence_groups(page)
    return _GROUPS[key]


def _fence_groups(page: Path) -> list[tuple[int, list[Include]]]:
    includes = pages.includes(page)  # fence problems are the inventory tests' business
    lines = page.read_text(encoding="utf-8").splitlines()
    closing: dict[int, list[Include]] = {}
    for inc in includes:
        end = inc.line  # 0-based index of the line after the include
        while end < len(lines) and not (FENCE.match(lines[end]) and not FENCE.match(lines[end])["info"].strip()):
            end += 1
        closing.setdefault(end + 1, []).append(inc)
    return sorted(closing.items())


def anchors(page: Path) -> list[tuple[str, list[Include]]]:
    """The anchor id of each included code block's proof line, in page order."""
    taken: set[str] = set()
    return [(anchor_for(incs[0], taken), incs) for _, incs in fence_groups(page)]


def mark_blocks(markdown: str, page: Path, offset: int) -> tuple[str, list[Block]]:
    lines = markdown.splitlines()
    groups = fence_groups(page)
    blocks: list[Block] = []
    for n, ((close_line, incs), (anchor, _)) in enumerate(zip(groups, anchors(page), strict=True)):
        idx = close_line - 1 - offset
        if not (0 <= idx < len(lines)) or not FENCE.match(lines[idx]):
            raise PageError(
                f"{page}:{close_line}: the code block of {incs[0].path} does not end where expected "
                f"in the page markdown (front matter of unusual shape?)"
            )
        blocks.append(Block(f"{TOKEN}{n}X", anchor, incs))
    for block, (close_line, _) in sorted(zip(blocks, groups, strict=True), key=lambda b: -b[1][0]):
        idx = close_line - 1 - offset
        indent = FENCE.match(lines[idx])["indent"]
        lines[idx + 1 : idx + 1] = ["", f"{indent}{block.token}", f"{indent}{{: #{block.anchor} }}", ""]
    return "\n".join(lines) + ("\n" if markdown.endswith("\n") else ""), blocks


INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)


def placeholders(markdown: str, page: Path, offset: int) -> list[tuple[re.Match[str], Placeholder]]:
    """Placeholders in prose; text inside inline code (`v{{version}}` of a workflow) is quoted, not one."""
    found = []
    quoted = [(c.start(), c.end()) for c in INLINE_CODE.finditer(markdown)]
    for m in PLACEHOLDER.finditer(markdown):
        if any(a <= m.start() < b for a, b in quoted):
            continue
        line = markdown.count("\n", 0, m.start()) + 1 + offset
        try:
            args = shlex.split(m["args"])
        except ValueError as exc:
            raise PageError(f"{page}:{line}: cannot read placeholder {m[0]!r}: {exc}") from exc
        found.append((m, Placeholder(m["name"], args, f"{page}:{line}")))
    return found


def replace(markdown: str, replacements: list[tuple[re.Match[str], str]]) -> str:
    for m, text in sorted(replacements, key=lambda r: r[0].start(), reverse=True):
        markdown = markdown[: m.start()] + text + markdown[m.end() :]
    return markdown
