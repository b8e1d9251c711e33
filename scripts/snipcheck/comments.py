"""Code comments in the reader's language: find the comments of a snippet, render it with the
Russian text from a catalog, and check the catalogs.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import manifest, pages
from .pages import SECTION_MARK
from .paths import ROOT, rel

CATALOGS = ROOT / "translations" / "comments.ru"

YAML_KINDS = {"yaml", "compose", "kubernetes", "kustomization", "workflow"}
LINE_HASH_KINDS = {"dockerfile", "dockerignore", "env"}  # only whole-line `#` comments
SLASH_KINDS = {"go", "csharp", "gomod"}
DASH_KINDS = {"sql"}
WHOLE_LINE_KINDS = {"text"}
NO_COMMENT_KINDS = {"json"}
NO_COMMENT_FILES = {"go.sum"}  # declared `gomod`, but checksums: `//` inside a hash is no comment


def syntax_of(path: str, kind: str) -> str:
    """The comment syntax of a declared snippet: its kind, except for files without comments."""
    return "json" if path.rsplit("/", 1)[-1] in NO_COMMENT_FILES else kind


# Comments a tool reads: never translated, never required in a catalog.
DIRECTIVE = re.compile(
    r"""^(?:
        (?:syntax|escape|check)\s*=           # Dockerfile parser directives
      | --8<--                                # pymdownx.snippets section markers
      | hadolint\s | shellcheck\s | yamllint\s
      | yaml-language-server:
      | nolint | nosec | noqa
      | indirect$                             # go.mod requirement marker
      | go:[a-z]+ | \+build\s                 # //go:build, //go:embed, // +build
      | \#region | \#endregion
    )""",
    re.VERBOSE,
)
WORD = re.compile(r"[A-Za-z]{2,}")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


class CatalogError(ValueError):
    """A catalog is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Comment:
    """The text of one comment on one line: `line` is 1-based, [start, end) columns of the text."""

    line: int
    start: int
    end: int
    text: str
    directive: bool = False

    @property
    def needs_translation(self) -> bool:
        return not self.directive and bool(WORD.search(self.text))


# ---- finding comments ------------------------------------------------------------------------


def _text_span(line: str, begin: int, end: int) -> tuple[int, int]:
    """Columns of the comment's text inside [begin, end): surrounding blanks trimmed."""
    while begin < end and line[begin] in " \t":
        begin += 1
    while end > begin and line[end - 1] in " \t":
        end -= 1
    return begin, end


def _comment(no: int, line: str, begin: int, end: int, *, directive: bool = False) -> Comment:
    s, e = _text_span(line, begin, end)
    text = line[s:e]
    return Comment(no, s, e, text, directive or bool(DIRECTIVE.match(text)))


HEREDOC = re.compile(r"<<(?P<dash>-?)\s*(?P<q>['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=q)")


def _in_quotes(line: str, i: int, quote: str | None, *, doubled_single: bool = False) -> tuple[int, str | None]:
    """One step of a scan inside a quoted string: the next index and the quote still open (None: closed).
    `doubled_single`: '' inside single quotes is an escaped quote (YAML)."""
    ch = line[i]
    if quote == "'":
        if ch == "'":
            if doubled_single and line.startswith("''", i):
                return i + 2, quote
            return i + 1, None
    elif ch == "\\":
        return i + 2, quote
    elif ch == '"':
        return i + 1, None
    return i + 1, quote


def _hash_comments_shell(lines: list[str]) -> Iterator[Comment]:
    """`#` at the start of a word, outside quotes and heredoc bodies (POSIX shell rules)."""
    quote: str | None = None
    heredocs: list[tuple[str, bool]] = []
    for no, line in enumerate(lines, start=1):
        if heredocs and quote is None:
            word, dash = heredocs[0]
            if (line.lstrip("\t") if dash else line) == word:
                heredocs.pop(0)
            continue
        i = 0
        while i < len(line):
            ch = line[i]
            if quote is not None:
                i, quote = _in_quotes(line, i, quote)
                continue
            if ch == "\\":
                i += 1
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t;|&()"):
                yield _comment(no, line, i + 1, len(line), directive=(no == 1 and line.startswith("#!")))
                break
            elif ch == "<" and line.startswith("<<", i) and not line.startswith("<<<", i):
                m = HEREDOC.match(line, i)
                if m:
                    heredocs.append((m["word"], bool(m["dash"])))
                    i = m.end() - 1
            i += 1


BLOCK_SCALAR = re.compile(r"(?:^|[:\-]\s+|^\s*-\s+)[|>][0-9+-]*\s*(?:#.*)?$")


def _hash_comments_yaml(lines: list[str]) -> Iterator[Comment]:
    """`#` at line start or after a blank, outside quoted scalars and block-scalar (| >) bodies."""
    block_indent: int | None = None  # content of a block scalar is more indented than its key
    for no, line in enumerate(lines, start=1):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        quote: str | None = None
        i = 0
        found: Comment | None = None
        while i < len(line):
            ch = line[i]
            if quote is not None:
                i, quote = _in_quotes(line, i, quote, doubled_single=True)
                continue
            if ch in "'\"" and (i == 0 or line[i - 1] in " \t[{,:-"):
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                found = _comment(no, line, i + 1, len(line))
                break
            i += 1
        code = line[: found.start - 1].rstrip() if found else line.rstrip()
        if found:
            code = line[: line.rfind("#", 0, found.start)].rstrip()
        if BLOCK_SCALAR.search(code) and not code.lstrip().startswith("#"):
            block_indent = indent
        if found:
            yield found


def _hash_comments_toml(lines: list[str]) -> Iterator[Comment]:
    """`#` outside basic and literal strings (no multi-line strings in the snippets' TOML)."""
    for no, line in enumerate(lines, start=1):
        quote: str | None = None
        i = 0
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 1
                elif ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch == "#":
                yield _comment(no, line, i + 1, len(line))
                break
            i += 1


DOCKER_HEREDOC = re.compile(r"<<-?\s*['\"]?(?P<word>[A-Za-z_][A-Za-z0-9_]*)['\"]?")


def _line_hash_comments(lines: list[str], kind: str) -> Iterator[Comment]:
    """Whole-line `#` comments (Dockerfile, .dockerignore, env files); Dockerfile heredoc bodies skipped.

    In a Dockerfile a `#` after an instruction is not a Dockerfile comment (it reaches the shell
    or the instruction), so only lines starting with `#` count.
    """
    heredocs: list[str] = []
    directives_allowed = kind == "dockerfile"
    for no, line in enumerate(lines, start=1):
        if heredocs:
            if line.strip() == heredocs[0]:
                heredocs.pop(0)
            continue
        stripped = line.lstrip()
        if stripped.startswith("#"):
            c = _comment(no, line, line.index("#") + 1, len(line))
            if directives_allowed and not c.directive and re.match(r"^\w+\s*=", c.text) is None:
                directives_allowed = False
            yield c
            continue
        if stripped:
            directives_allowed = False
        if kind == "dockerfile":
            heredocs += [m["word"] for m in DOCKER_HEREDOC.finditer(line)]


def _c_like_comments(lines: list[str], kind: str, line_marker: str = "//") -> Iterator[Comment]:
    """`//` (or `--`) line comments and `/* */` blocks, outside string, rune and raw-string literals."""
    in_block = False
    raw: str | None = None  # Go raw string (`) or C# verbatim string (") spanning lines
    for no, line in enumerate(lines, start=1):
        i = 0
        block_begin = 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                stop = end if end >= 0 else len(line)
                text_begin = block_begin
                # a continuation line of a block comment: drop the leading ` * `
                lead = re.match(r"\s*\*(?!/)\s?", line[text_begin:stop])
                if lead and text_begin == 0:
                    text_begin += lead.end()
                if line[text_begin:stop].strip():
                    yield _comment(no, line, text_begin, stop)
                if end < 0:
                    break
                in_block = False
                i = end + 2
                continue
            if raw:
                end = line.find(raw, i)
                if end < 0:
                    break
                if raw == '"' and line.startswith('""', end):
                    i = end + 2
                    continue
                raw = None
                i = end + 1
                continue
            ch = line[i]
            if line.startswith(line_marker, i):
                yield _comment(
                    no,
                    line,
                    i + len(line_marker),
                    len(line),
                    directive=line.startswith("//go:", i) or line.startswith("//nolint", i),
                )
                break
            if line.startswith("/*", i):
                in_block = True
                block_begin = i + 2
                i += 2
                continue
            if ch == "`" and kind == "go":
                raw = "`"
                i += 1
                continue
            if ch == "@" and line.startswith('@"', i) and kind == "csharp":
                raw = '"'
                i += 2
                continue
            if ch in "\"'":
                quote = ch
                i += 1
                while i < len(line):
                    if line[i] == "\\" and kind != "sql":
                        i += 2
                        continue
                    if line[i] == quote:
                        break
                    i += 1
                i += 1
                continue
            i += 1
        if in_block:
            block_begin = 0


def find_comments(text: str, kind: str) -> list[Comment]:
    """Every comment in `text` of a snippet of `kind`, in line order."""
    lines = text.split("\n")
    if kind == "shell":
        return list(_hash_comments_shell(lines))
    if kind in YAML_KINDS:
        return list(_hash_comments_yaml(lines))
    if kind == "toml":
        return list(_hash_comments_toml(lines))
    if kind in LINE_HASH_KINDS:
        return list(_line_hash_comments(lines, kind))
    if kind in SLASH_KINDS:
        return list(_c_like_comments(lines, kind))
    if kind in DASH_KINDS:
        return list(_c_like_comments(lines, kind, "--"))
    return []


def strip_comments(text: str, kind: str) -> str:
    """`text` with the text of every comment removed (markers and code kept): the code a tool sees."""
    lines = text.split("\n")
    for c in reversed(find_comments(text, kind)):
        line = lines[c.line - 1]
        lines[c.line - 1] = line[: c.start] + line[c.end :]
    return "\n".join(lines)


# ---- comparing code with comments and whitespace set aside (the block map) -------------------

# The fence languages of the original chapter, as comment syntaxes. Dockerfiles compare as shell: a
# trailing `# note` after a shell-form instruction is a comment there.
FENCE_KINDS = {
    "bash": "shell",
    "sh": "shell",
    "shell": "shell",
    "yml": "yaml",
    "yaml": "yaml",
    "cs": "csharp",
    "csharp": "csharp",
    "go": "go",
    "dockerfile": "shell",
    "toml": "toml",
    "sql": "sql",
    "json": "json",
    "text": "shell",
    "": "shell",
    "env": "env",
    "ini": "shell",
    "dockerignore": "dockerignore",
    "gomod": "gomod",
    "compose": "yaml",
    "kubernetes": "yaml",
    "kustomization": "yaml",
    "workflow": "yaml",
}
_CONTINUATION = re.compile(r"\\\n\s*")
_BLANKS = re.compile(r"[ \t]+")


_LEFT_MARKER = re.compile(r"\s*(?:/\*\s*\*/|#+|//+|--+)\s*$")


def _drop_comments(text: str, syntax: str) -> str:
    """Comments removed with their markers (strip_comments keeps the markers of a rendering)."""
    before = text.split("\n")
    after = strip_comments(text, syntax).split("\n")
    return "\n".join(
        re.sub(r"/\*\s*\*/", "", _LEFT_MARKER.sub("", a)) if a != b else a for a, b in zip(after, before, strict=True)
    )


def normalise(text: str, kind: str, comments: bool = False) -> list[str]:
    """Non-blank lines with whitespace collapsed (and shell/Dockerfile continuations joined); comments
    removed unless `comments`. `kind` is a fence language or a snippet kind (plain text and trees: `#`)."""
    syntax = FENCE_KINDS.get(kind.lower())
    if syntax is None:
        raise ValueError(
            f"unknown code kind {kind!r} — add it to snipcheck.comments.FENCE_KINDS (one of {sorted(FENCE_KINDS)})"
        )
    if not comments:
        text = _drop_comments(text, syntax)
    if syntax not in SLASH_KINDS | NO_COMMENT_KINDS:
        text = _CONTINUATION.sub(" ", text)
    lines = (_BLANKS.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


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
