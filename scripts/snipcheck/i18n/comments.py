"""Code comments in the reader's language: the checks of the Russian comment catalogs against the
snippets and the built site (finding comments: comment_syntax; the catalogs and rendering: comment_catalog).

Every snippet under snippets/ is one tested file with English comments. A catalog per top-level
snippet directory, `translations/comments.ru/<dir>.yaml`, holds the Russian text of those comments:

    files:
      multi-stage/Dockerfile:            # path below snippets/<dir>/
        "Build stage": "Этап сборки"    # English comment text -> Russian comment text
        "image: ghcr.io/x/y:1.0": "image: ghcr.io/x/y:1.0"   # commented-out code: kept as is

For a `text` snippet (a diagram, console output) a key is a whole line and its value replaces the line.
The Russian build of the site includes the rendered copy (see scripts/hooks/comments_ru.py).

Only comment text is ever replaced: the comment marker, the code before a trailing comment, string
literals, heredoc and YAML block-scalar bodies, and every comment a tool reads (parser directives,
shebangs, `--8<--` section markers, linter pragmas, `//go:` directives) are left as they are — so the
rendered file with its comments removed is the original with its comments removed (tests prove it).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..model import manifest, pages
from ..model.paths import rel
from .catalog import CATALOGS, FileCatalog, Rendered, catalog_for, included_lines, load_catalogs, render
from .syntax import CYRILLIC, WHOLE_LINE_KINDS, WORD, find_comments, strip_comments, syntax_of


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    missing: list[Problem] = field(default_factory=list)
    stale: list[Problem] = field(default_factory=list)
    changed_code: list[Problem] = field(default_factory=list)
    rendered: dict[str, str] = field(default_factory=dict)  # snippet path -> Russian text
    comments: int = 0  # comment lines shown that need a translation

    @property
    def problems(self) -> list[Problem]:
        return self.missing + self.stale + self.changed_code


def code_difference(original: str, rendered: str, kind: str) -> str | None:
    """None when both texts are the same code; else the first differing line, for the message."""
    a, b = strip_comments(original, kind).split("\n"), strip_comments(rendered, kind).split("\n")
    if kind in WHOLE_LINE_KINDS:
        a, b = [str(len(a))], [str(len(b))]  # a text snippet only keeps its line count
    if a == b:
        return None
    for no, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"line {no}: {x!r} became {y!r}"
    return f"{len(a)} lines became {len(b)}"


def render_all(
    snippets: Path, declared: dict[str, manifest.Snippet], catalogs: dict[str, FileCatalog]
) -> dict[str, tuple[str, Rendered]]:
    """Every declared snippet file: (original text, Russian rendering). Marks catalog entries used."""
    out: dict[str, tuple[str, Rendered]] = {}
    for path, snip in sorted(declared.items()):
        file = snippets / path
        if file.is_file():
            text = manifest.read_text(file)
            fc = catalogs.get(path, FileCatalog(path))
            out[path] = (text, render(text, syntax_of(path, snip.kind), fc.entries))
    return out


def check(
    snippets: Path,
    includes: dict[str, set[str | None]],
    catalogs_dir: Path = CATALOGS,
    declared: dict[str, manifest.Snippet] | None = None,
) -> Report:
    """Render every declared snippet in Russian; report comments without an entry (in the lines pages
    show), entries that match nothing, and renderings whose code differs from the file's.

    `includes` maps snippet path -> the sections pages include (None for the whole file).
    """
    declared = manifest.load(snippets) if declared is None else declared
    catalogs = load_catalogs(catalogs_dir)
    report = Report()
    for path, (text, result) in render_all(snippets, declared, catalogs).items():
        report.rendered[path] = result.text
        shown = included_lines(text, includes.get(path, set()))
        catalog, key = catalog_for(path, catalogs_dir)
        kind = syntax_of(path, declared[path].kind)
        report.comments += sum(1 for c in find_comments(text, kind) if c.needs_translation and c.line in shown)
        for c in result.missing:
            if c.line in shown:
                report.missing.append(
                    Problem(
                        f"snippets/{path}:{c.line}",
                        f"comment {c.text!r} has no Russian text — add it under `{key}:` in {rel(catalog)}",
                    )
                )
        diff = code_difference(text, result.text, kind)
        if diff:
            report.changed_code.append(
                Problem(
                    f"snippets/{path}",
                    f"the Russian rendering changes code ({diff}) — a catalog entry of "
                    f"{rel(catalog)} must be comment text only",
                )
            )
    for path, fc in sorted(catalogs.items()):
        for entry in fc.entries.values():
            if path not in declared:
                report.stale.append(
                    Problem(
                        entry.where(), f"snippets/{path} is not a declared snippet — fix the path or remove its entries"
                    )
                )
                break
            if not entry.used:
                report.stale.append(
                    Problem(
                        entry.where(),
                        f"{entry.english!r} matches no comment in snippets/{path} — the comment "
                        f"was edited or removed: change the key to the new English text (and "
                        f"the Russian to match) or delete the entry",
                    )
                )
    return report


def page_includes(docs: Path, snippets: Path) -> dict[str, set[str | None]]:
    """Snippet path -> the sections the pages include (None: the whole file)."""
    found = pages.all_includes(docs, snippets)
    out: dict[str, set[str | None]] = {}
    for inc in found:
        out.setdefault(inc.path, set()).add(inc.section)
    return out


def write_tree(rendered: dict[str, str], out: Path) -> None:
    """Write the Russian renderings as a snippet tree under `out` (files kept only when changed)."""
    for path, text in rendered.items():
        target = out / path
        if not target.resolve().is_relative_to(out.resolve()):
            raise manifest.ManifestError(f"{path}: outside the snippet tree, not written under {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


# ---- the built site -------------------------------------------------------------------------

CODE_BLOCK = re.compile(r"<pre[^>]*>(.*?)</pre>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")
MARKERS = ("#", "//", "--", "/*", "*")


def html_code_lines(page_html: str) -> list[str]:
    """The text lines of every code block of a built page."""
    lines: list[str] = []
    for block in CODE_BLOCK.findall(page_html):
        lines += html.unescape(TAG.sub("", block)).split("\n")
    return lines


def english_comment_in(line: str, english: set[str]) -> str | None:
    """The English comment text `line` ends with (after a comment marker), if any."""
    stripped = line.rstrip()
    for text in english:
        if stripped.endswith(text):
            before = stripped[: len(stripped) - len(text)].rstrip()
            if before.endswith(MARKERS):
                return text
    return None


def check_built_site(site: Path, catalogs_dir: Path = CATALOGS) -> list[str]:
    """Russian pages show no translated English comment; English pages show no Cyrillic in code."""
    entries = [e for fc in load_catalogs(catalogs_dir).values() for e in fc.entries.values()]
    kept = {e.english for e in entries if e.russian == e.english}  # names and code kept as is somewhere
    english = {e.english for e in entries if e.russian != e.english and WORD.search(e.english)} - kept
    problems: list[str] = []
    for page in sorted(site.rglob("*.html")):
        rel_page = page.relative_to(site).as_posix()
        is_english = rel_page.startswith("en/")
        for line in html_code_lines(page.read_text(encoding="utf-8")):
            if is_english and CYRILLIC.search(line):
                problems.append(f"{rel_page}: English page shows a Russian code line: {line.strip()!r}")
            elif not is_english and (found := english_comment_in(line, english)):
                problems.append(
                    f"{rel_page}: Russian page shows the English comment {found!r} "
                    f"(line {line.strip()!r}) — the Russian build did not use the catalog"
                )
    return problems
