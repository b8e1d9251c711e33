"""The Russian comment catalogs (translations/comments.ru/<dir>.yaml): loading them with file:line in every
error, and rendering a snippet with their text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..model.pages import SECTION_MARK
from ..model.paths import ROOT, rel
from .syntax import WHOLE_LINE_KINDS, Comment, find_comments

CATALOGS = ROOT / "translations" / "comments.ru"


class CatalogError(ValueError):
    """A catalog is malformed; the message names the file and the entry."""


# ---- catalogs -------------------------------------------------------------------------------


@dataclass
class Entry:
    english: str
    russian: str
    catalog: Path
    line: int
    used: bool = False

    def where(self) -> str:
        return f"{rel(self.catalog)}:{self.line}"


@dataclass
class FileCatalog:
    path: str  # relative to snippets/
    entries: dict[str, Entry] = field(default_factory=dict)


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping_with_lines(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    out: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        value = loader.construct_object(value_node, deep=True)
        out[key] = (value, key_node.start_mark.line + 1)
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def catalog_files(catalogs: Path = CATALOGS) -> list[Path]:
    return sorted(catalogs.glob("*.yaml"))


def load_catalogs(catalogs: Path = CATALOGS) -> dict[str, FileCatalog]:
    """Every catalog in `catalogs`, keyed by snippet path relative to snippets/.

    `<catalogs>/<dir>.yaml` holds the comments of snippets/<dir>/; its keys are paths below that directory.
    """
    out: dict[str, FileCatalog] = {}
    for cat in catalog_files(catalogs):
        try:
            data = yaml.load(cat.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
        except yaml.YAMLError as exc:
            raise CatalogError(f"{cat}: not valid YAML: {exc}") from exc
        files, _ = data.get("files", (None, 0))
        if not isinstance(files, dict):
            raise CatalogError(f"{cat}: expected a top-level mapping `files:` of snippet paths")
        for name, (entries, line) in files.items():
            path = f"{cat.stem}/{name}"
            if not isinstance(entries, dict):
                raise CatalogError(f"{cat}:{line}: `{name}` must map English comment text to Russian text")
            fc = out.setdefault(path, FileCatalog(path))
            for english, (russian, eline) in entries.items():
                if not isinstance(english, str) or not isinstance(russian, str):
                    raise CatalogError(
                        f"{cat}:{eline}: both sides of an entry must be strings (quote them): {english!r}: {russian!r}"
                    )
                if "\n" in russian or "\n" in english:
                    raise CatalogError(f"{cat}:{eline}: one comment line per entry: {english!r}")
                fc.entries[english] = Entry(english, russian, cat, eline)
    return out


def catalog_for(snippet_path: str, catalogs: Path = CATALOGS) -> tuple[Path, str]:
    """The catalog a snippet's entries belong in, and the snippet's key there."""
    top, _, rest = snippet_path.partition("/")
    return catalogs / f"{top}.yaml", rest


def add_entry(snippet_path: str, english: str, russian: str, catalogs: Path = CATALOGS) -> tuple[Path, int]:
    """Add one comment's Russian text to the catalog of `snippet_path` (under its key, which is added at the
    end when missing); the file is loaded again and put back as it was if the result does not load.
    Returns (catalog, line of the new entry)."""
    cat, key = catalog_for(snippet_path, catalogs)
    if not english.strip() or not russian.strip() or "\n" in english + russian:
        raise CatalogError(f"{cat}: an entry is one comment line of English and its Russian text, both non-empty")
    before = cat.read_text(encoding="utf-8") if cat.is_file() else "files:\n"
    known = load_catalogs(catalogs).get(snippet_path)
    if known and english in known.entries:
        e = known.entries[english]
        raise CatalogError(f"{e.catalog}:{e.line}: {english!r} has Russian text already: {e.russian!r}")
    line = f"    {json.dumps(english, ensure_ascii=False)}: {json.dumps(russian, ensure_ascii=False)}"
    lines = before.rstrip("\n").split("\n")
    heads = {f"  {key}:", f"  {json.dumps(key)}:", f"  '{key}':"}
    at = next((i for i, x in enumerate(lines) if x.rstrip() in heads), None)
    if at is None:
        lines += [f"  {json.dumps(key)}:", line]
        where = len(lines)
    else:
        end = at + 1
        while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
            end += 1
        lines.insert(end, line)
        where = end + 1
    cat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        load_catalogs(catalogs)
    except CatalogError:
        cat.write_text(before, encoding="utf-8")
        raise
    return cat, where


# ---- rendering ------------------------------------------------------------------------------


@dataclass
class Rendered:
    text: str
    missing: list[Comment]  # comments needing translation that have no entry


def render(text: str, kind: str, entries: dict[str, Entry]) -> Rendered:
    """`text` with each comment's English text replaced by its catalog entry (marks entries used)."""
    lines = text.split("\n")
    missing: list[Comment] = []
    if kind in WHOLE_LINE_KINDS:
        for idx, line in enumerate(lines):
            entry = entries.get(line.rstrip())
            if entry:
                entry.used = True
                lines[idx] = entry.russian
        return Rendered("\n".join(lines), missing)
    for c in reversed(find_comments(text, kind)):
        if c.directive:
            continue
        entry = entries.get(c.text)
        if entry is None:
            if c.needs_translation:
                missing.append(c)
            continue
        entry.used = True
        line = lines[c.line - 1]
        lines[c.line - 1] = line[: c.start] + entry.russian + line[c.end :]
    missing.reverse()
    return Rendered("\n".join(lines), missing)


def included_lines(text: str, sections: Iterable[str | None]) -> set[int]:
    """1-based line numbers shown by includes of these sections (None: the whole file)."""
    lines = text.split("\n")
    shown: set[int] = set()
    for section in sections:
        if section is None:
            shown.update(range(1, len(lines) + 1))
            continue
        inside = False
        for no, line in enumerate(lines, start=1):
            m = SECTION_MARK.search(line)
            if m and m["name"] == section:
                inside = m["kind"] == "start"
                continue
            if inside:
                shown.add(no)
    return shown
