"""The one page reader: pages, their languages and pairs, front matter, fenced blocks and includes.

Every rule about pages (inventory, translation parity, the comment translations, the proof lines,
`explain`) reads pages through here, so there is one definition of a fence, an include and a page
pair. Standard library only: `python -m snipcheck stamp` uses it without the project's venv.

Pages: `docs/x.md` is Russian (the original), `docs/x.en.md` its English translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LANGS = ("ru", "en")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<target>[^"]+)"\s*$')
SECTION_MARK = re.compile(r"--8<--\s+\[(?P<kind>start|end):(?P<name>[A-Za-z0-9_.-]+)\]")
# The same front-matter rule MkDocs uses (mkdocs.utils.meta.YAML_RE).
FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)


# ---- pages, languages and pairs -----------------------------------------------------------------


def is_english(page: Path) -> bool:
    return page.name.endswith(".en.md")


def page_lang(page: Path) -> str:
    return "en" if is_english(page) else "ru"


def english_for(ru: Path) -> Path:
    return ru.with_name(ru.name[: -len(".md")] + ".en.md")


def russian_for(en: Path) -> Path:
    return en.with_name(en.name[: -len(".en.md")] + ".md")


def page_key(page: Path, docs: Path) -> str:
    """The page's language-neutral name: index.en.md and index.md are both `index.md`."""
    r = page.relative_to(docs).as_posix()
    return r[: -len(".en.md")] + ".md" if r.endswith(".en.md") else r


def all_pages(docs: Path) -> list[Path]:
    return sorted(docs.rglob("*.md"))


def russian_pages(docs: Path) -> list[Path]:
    return sorted(p for p in docs.rglob("*.md") if not is_english(p))


def english_pages(docs: Path) -> list[Path]:
    return sorted(docs.rglob("*.en.md"))


def pairs(docs: Path) -> list[tuple[Path, Path]]:
    """(Russian, English) pairs where both pages exist."""
    return [(ru, english_for(ru)) for ru in russian_pages(docs) if english_for(ru).is_file()]


def show(page: Path, docs: Path) -> str:
    """`docs/x.md` whatever the docs directory is called on disk."""
    try:
        return f"{docs.name}/{page.relative_to(docs).as_posix()}"
    except ValueError:
        return str(page)


# ---- text and front matter ------------------------------------------------------------------------


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8").replace("\r\n", "\n")


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front matter block without its `---` lines, or None; the body after it)."""
    m = FRONT_MATTER.match(text)
    if not m:
        return None, text
    return m[1], text[m.end() :]


def front_matter_value(text: str, key: str) -> str | None:
    front, _ = split_front_matter(text)
    if front is None:
        return None
    m = re.search(rf"^{re.escape(key)}:[ \t]*['\"]?(?P<value>[^'\"\n]*?)['\"]?[ \t]*$", front, re.M)
    return m["value"] if m else None


# ---- fenced blocks and includes -------------------------------------------------------------------


@dataclass(frozen=True)
class Include:
    page: Path
    line: int
    path: str  # relative to snippets/
    section: str | None

    @property
    def target(self) -> str:
        return self.path if self.section is None else f"{self.path}:{self.section}"


@dataclass
class Block:
    """A fenced block: its opening line, info string, and body lines (1-based line numbers)."""

    page: Path
    line: int
    info: str
    body: list[tuple[int, str]] = field(default_factory=list)
    closed: bool = False

    @property
    def lang(self) -> str:
        return (self.info.split() or [""])[0].lstrip("{.")

    @property
    def includes(self) -> list[Include]:
        if self.lang == "mermaid":
            return []  # diagrams are prose, written in the page
        found = []
        for no, text in self.body:
            if m := INCLUDE.match(text):
                path, sep, section = m["target"].partition(":")
                found.append(Include(self.page, no, path, section if sep else None))
        return found


@dataclass
class Page:
    path: Path
    blocks: list[Block]
    prose: list[tuple[int, str]]  # lines outside fences (front matter included), 1-based


def parse(page: Path, text: str | None = None) -> Page:
    """Split a page into fenced blocks and the prose around them."""
    lines = (read(page) if text is None else text).splitlines()
    blocks: list[Block] = []
    prose: list[tuple[int, str]] = []
    current: Block | None = None
    fence = ""
    for no, line in enumerate(lines, start=1):
        m = FENCE.match(line)
        if current is None:
            if m:
                current, fence = Block(page, no, m["info"].strip()), m["fence"]
                blocks.append(current)
            else:
                prose.append((no, line))
            continue
        if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence) and not m["info"].strip():
            current.closed = True
            current = None
            continue
        current.body.append((no, line))
    return Page(page, blocks, prose)


def includes(page: Path) -> list[Include]:
    """The includes of a page's closed code blocks (an unclosed fence is the inventory tests' business)."""
    return [inc for block in parse(page).blocks if block.closed for inc in block.includes]


def include_problem(inc: Include, snippets: Path) -> str | None:
    """Why an include names no snippet (outside snippets/, missing file, line range, missing section) —
    "page:line: what is wrong — what to do" — or None when it names one."""
    target = snippets / inc.path
    if not target.resolve().is_relative_to(snippets.resolve()):
        return f"{inc.page}:{inc.line}: include of {inc.path}, outside snippets/ — name a snippet"
    if not target.is_file():
        return f"{inc.page}:{inc.line}: include of missing file snippets/{inc.path} — create it or fix the path"
    if inc.section is None:
        return None
    if re.fullmatch(r"[0-9:,-]+", inc.section):
        return (
            f"{inc.page}:{inc.line}: line-range include {inc.path}:{inc.section} — "
            f"use a named section ([start:name]/[end:name]) instead"
        )
    marks = sections_in(target)
    if inc.section not in marks["start"] or inc.section not in marks["end"]:
        return (
            f"{inc.page}:{inc.line}: section '{inc.section}' not found in "
            f"snippets/{inc.path} — add `--8<-- [start:{inc.section}]` and "
            f"`--8<-- [end:{inc.section}]` comment lines there"
        )
    return None


def all_includes(docs: Path, snippets: Path) -> list[Include]:
    """Every include of every page that names a snippet (the others are reported by the inventory)."""
    return [inc for page in all_pages(docs) for inc in includes(page) if include_problem(inc, snippets) is None]


def sections_in(file: Path) -> dict[str, set[str]]:
    """Section names of a snippet file: {"start": {...}, "end": {...}}."""
    found: dict[str, set[str]] = {"start": set(), "end": set()}
    for m in SECTION_MARK.finditer(file.read_text(encoding="utf-8", errors="replace")):
        found[m["kind"]].add(m["name"])
    return found
