"""What a code block on a page must show: the snippet (or its section) as a language renders it.

One function, `as_rendered(path, section, lang)`, is the expectation the browser tier compares every
rendered code block (and every copy-button copy) against: English pages show the file itself, Russian
pages the file with its comments from the Russian catalog (snipcheck.i18n.comments, the same rendering
scripts/hooks/comments_ru.py gives pymdownx.snippets).
"""

from __future__ import annotations

import functools
import re
import textwrap
from pathlib import Path

from ..model import manifest
from ..model.paths import SNIPPETS
from . import catalog as comment_catalog
from . import syntax as comment_syntax

# pymdownx.snippets' section marker: `--8<-- [start:name]` / `--8<-- [end:name]` anywhere on a line.
SECTION_MARK = re.compile(
    r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)"
    r"[ \t]*\]",
    re.I,
)


class SnippetSectionMissing(LookupError):
    pass


def _section(lines: list[str], name: str, where: str) -> list[str]:
    out: list[str] = []
    inside = found = False
    for line in lines:
        m = SECTION_MARK.search(line)
        if m and m["name"] == name:
            if m["type"] == "start":
                inside = found = True
                continue
            if inside:
                break
        if inside:
            out.append(line)
    if not found:
        raise SnippetSectionMissing(f"{where} has no section '{name}' (no `--8<-- [start:{name}]` marker)")
    # mkdocs.yml sets dedent_subsections: true
    return textwrap.dedent("\n".join(out)).split("\n")


def as_rendered(path: str, section: str | None, lang: str, snippets: Path = SNIPPETS) -> str:
    """The text a `--8<-- "path:section"` code block shows on a page in `lang` (`ru` or `en`)."""
    if lang not in ("ru", "en"):
        raise ValueError(f"unknown page language {lang!r}")
    file = snippets / path
    text = file.read_text(encoding="utf-8")
    if lang == "ru":
        text = _russian(path, text)
    lines = text.split("\n") if text else []
    if section:
        lines = _section(lines, section, f"snippets/{path}")
    lines = [line for line in lines if not SECTION_MARK.search(line)]  # markers never show
    # exactly the lines pymdownx puts in the fence: a whole file's final newline is a last, empty line
    return "\n".join(lines)


@functools.cache
def _declared() -> tuple[dict[str, manifest.Snippet], dict[str, comment_catalog.FileCatalog]]:
    return manifest.load(), comment_catalog.load_catalogs(comment_catalog.CATALOGS)


def _russian(path: str, text: str) -> str:
    declared, catalogs = _declared()
    catalog = catalogs.get(path)
    return comment_catalog.render(
        text, comment_syntax.syntax_of(path, declared[path].kind), catalog.entries if catalog else {}
    ).text
