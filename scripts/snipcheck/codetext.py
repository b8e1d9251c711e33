"""Code text normalised for comparison: comments stripped per kind of file, whitespace collapsed.

Used by the block map (snipcheck.blockmap) to compare a code block of the original chapter with the
snippet that replaced it. Two levels:

- `normalise(text, kind, comments=True)`  — whitespace only: blank lines dropped, runs of blanks in a
  line collapsed, shell/Dockerfile line continuations (`\\` + newline) joined;
- `normalise(text, kind, comments=False)` — the same after removing comments.

Comment syntax by kind (the fence language of the original, or a manifest kind):
`#` for shell, Dockerfile, YAML, TOML, dockerignore and plain text (trees and outputs carry `# notes`);
`//` and `/* */` for Go and C#; `--` for SQL; none for JSON. A comment marker inside a quoted string
is not a comment. Standard library only.
"""

from __future__ import annotations

import re

HASH_KINDS = {"dockerfile", "bash", "sh", "shell", "yaml", "yml", "compose", "kubernetes", "kustomization",
              "workflow", "toml", "dockerignore", "text", "", "env", "ini"}
SLASH_KINDS = {"go", "csharp", "cs", "gomod"}
SQL_KINDS = {"sql"}
NO_COMMENT_KINDS = {"json"}
KINDS = HASH_KINDS | SLASH_KINDS | SQL_KINDS | NO_COMMENT_KINDS

_CONTINUATION = re.compile(r"\\\n\s*")
_BLANKS = re.compile(r"[ \t]+")


def _strip_line_comment(line: str, marker: str, need_space_before: bool) -> str:
    """The line up to the first `marker` outside quotes (for `#`: at line start or after a blank)."""
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif line.startswith(marker, i) and (not need_space_before or i == 0 or line[i - 1] in " \t"):
            return line[:i]
        elif ch in "\"'`" and not (ch == "'" and i > 0 and line[i - 1].isalnum()):
            quote = ch  # an apostrophe inside a word (don't) opens nothing
        i += 1
    return line


def _strip_block_comments(text: str) -> str:
    out: list[str] = []
    i, quote = 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if ch == quote or (ch == "\n" and quote != "`"):
                quote = None
            i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch in "\"`":
            quote = ch
        out.append(ch)
        i += 1
    return "".join(out)


def strip_comments(text: str, kind: str) -> str:
    kind = kind.lower()
    if kind not in KINDS:
        raise ValueError(f"unknown code kind {kind!r} — add it to snipcheck.codetext (one of {sorted(KINDS)})")
    if kind in SLASH_KINDS:
        return _strip_block_comments(text)
    if kind in SQL_KINDS:
        return "\n".join(_strip_line_comment(line, "--", False) for line in text.splitlines())
    if kind in NO_COMMENT_KINDS:
        return text
    return "\n".join(_strip_line_comment(line, "#", True) for line in text.splitlines())


def normalise(text: str, kind: str, comments: bool = False) -> list[str]:
    """Non-blank lines with whitespace collapsed; comments kept only when `comments` is True."""
    if not comments:
        text = strip_comments(text, kind)
    if kind.lower() not in SLASH_KINDS | NO_COMMENT_KINDS:
        text = _CONTINUATION.sub(" ", text)
    lines = (_BLANKS.sub(" ", line).strip() for line in text.splitlines())
    return [line for line in lines if line]
