"""What a code block on a page must show: the snippet (or its section) as a language renders it.

One function, `as_rendered(path, section, lang)`, is the expectation the browser tier compares every
rendered code block (and every copy-button copy) against. Today both languages show the file itself;
when the Russian build renders translated comments, this function returns that rendering for `ru`.
"""

from __future__ import annotations

import re
import textwrap

from .paths import SNIPPETS

# pymdownx.snippets' section marker: `--8<-- [start:name]` / `--8<-- [end:name]` anywhere on a line.
SECTION_MARK = re.compile(r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)"
                          r"[ \t]*\]", re.I)


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
        raise SnippetSectionMissing(f"{where}: no `--8<-- [start:{name}]` marker")
    # mkdocs.yml sets dedent_subsections: true
    return textwrap.dedent("\n".join(out)).split("\n")


def as_rendered(path: str, section: str | None, lang: str) -> str:
    """The text a `--8<-- "path:section"` code block shows on a page in `lang` (`ru` or `en`)."""
    if lang not in ("ru", "en"):
        raise ValueError(f"unknown page language {lang!r}")
    file = SNIPPETS / path
    text = file.read_text(encoding="utf-8")
    lines = text.split("\n") if text else []
    if section:
        lines = _section(lines, section, f"snippets/{path}")
    lines = [line for line in lines if not SECTION_MARK.search(line)]  # markers never show
    # exactly the lines pymdownx puts in the fence: a whole file's final newline is a last, empty line
    return "\n".join(lines)
