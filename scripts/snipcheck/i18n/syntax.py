"""Comment syntax per kind of snippet file: where the comments of a file are, which of them a tool reads (never
translated), and the code with its comments set aside (the block map compares that).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

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
            f"unknown code kind {kind!r} — add it to snipcheck.i18n.syntax.FENCE_KINDS (one of {sorted(FENCE_KINDS)})"
        )
    if not comments:
        text = _drop_comments(text, syntax)
    if syntax not in SLASH_KINDS | NO_COMMENT_KINDS:
        text = _CONTINUATION.sub(" ", text)
    lines = (_BLANKS.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]
