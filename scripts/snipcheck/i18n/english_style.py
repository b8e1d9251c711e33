"""The English edition's house style, checked on what an English reader reads: Oxford spelling (British -our
and -yse, with -ize: "behaviour", "analyse", "initialize"), percentages without a space ("80%"), English
quotation marks (no «guillemets», which belong to the Russian edition).

Read: the prose of every English page (code blocks and inline code left out: a flag or a file name is not
prose) and the comments of every snippet (the English site shows them as written), and — on a built site —
the text of every built English page, which adds the proof lines and the verification page.
Each problem names the file and line (or the built page), the word found and what to write instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

from ..model import manifest, pages
from ..model.paths import rel
from .syntax import find_comments, syntax_of

# Stems that Oxford spelling writes with -ize (the -ise form is the plain British one). Words that are
# -ise in every spelling (advertise, compromise, exercise, otherwise, precise, …) are not stems here.
IZE_STEMS = (
    "author",
    "capital",
    "categor",
    "central",
    "character",
    "container",
    "critic",
    "custom",
    "emphas",
    "final",
    "general",
    "initial",
    "local",
    "maxim",
    "memor",
    "minim",
    "modern",
    "normal",
    "optim",
    "organ",
    "parallel",
    "personal",
    "prioriti",
    "real",
    "recogn",
    "sanit",
    "serial",
    "special",
    "stabil",
    "standard",
    "summar",
    "symbol",
    "synchron",
    "token",
    "util",
    "virtual",
    "visual",
)
ISE = re.compile(
    r"\b(?P<word>(?:de|re|un)?(?P<stem>" + "|".join(IZE_STEMS) + r")is(?P<end>e|es|ed|ing|er|ers|ation|ations|able))\b",
    re.I,
)
SPACED_PERCENT = re.compile(r"\d+(?:[.,]\d+)?[ \u00a0\u202f]%")
AMERICAN = re.compile(
    r"\b(?P<word>(?:analy|paraly)z(?:e|es|ed|ing|er|ers)"
    r"|(?:behavi|fav|hon|lab|neighb)or(?:s|ed|ing|able|ite|ites|al)?)\b",
    re.I,
)
AMERICAN_FIX = (("yz", "ys"), ("or", "our"))
GUILLEMETS = re.compile(r"[«»]")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")


def _ize(match: re.Match[str]) -> str:
    word = match["word"]
    i = match.start("end") - match.start("word") - 2  # where "is" starts
    return word[:i] + ("Iz" if word[i].isupper() else "iz") + word[i + 2 :]


def _british(word: str) -> str:
    lower = word.lower()
    for american, british in AMERICAN_FIX:
        i = lower.rfind(american)
        if i > 0:
            return word[:i] + british + word[i + len(american) :]
    return word


def problems_in(text: str) -> list[str]:
    """What in one line of prose breaks the house style, each with the fix."""
    found = [f"{m['word']!r}: write {_ize(m)!r} (Oxford spelling)" for m in ISE.finditer(text)]
    found += [f"{m['word']!r}: write {_british(m['word'])!r} (Oxford spelling)" for m in AMERICAN.finditer(text)]
    found += [
        f"{m[0]!r}: write a percentage without a space ({m[0][:-1].strip()}%)" for m in SPACED_PERCENT.finditer(text)
    ]
    found += [f'{m[0]!r}: English quotation marks ("…") on English pages' for m in GUILLEMETS.finditer(text)]
    return found


def prose_lines(text: str) -> Iterable[tuple[int, str]]:
    """(line number, text) of a Markdown page's prose: fenced blocks, front matter and inline code left out."""
    front, _ = pages.split_front_matter(text)
    skip = len(front.splitlines()) + 2 if front is not None else 0
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if number <= skip:
            continue
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, INLINE_CODE.sub("", line)


def check_pages(docs: Path) -> list[str]:
    return [
        f"{rel(page)}:{number}: {problem}"
        for page in pages.english_pages(docs)
        for number, line in prose_lines(pages.read(page))
        for problem in problems_in(line)
    ]


def check_comments(snippets: Path, declared: dict[str, manifest.Snippet] | None = None) -> list[str]:
    """The comments of every declared snippet, which the English site shows as they are written."""
    out = []
    declared = manifest.load(snippets) if declared is None else declared
    for path, snip in sorted(declared.items()):
        text = (snippets / path).read_text(encoding="utf-8")
        for comment in find_comments(text, syntax_of(path, snip.kind)):
            out += [f"snippets/{path}:{comment.line}: {problem}" for problem in problems_in(comment.text)]
    return out


def check_built(site: Path) -> list[str]:
    """Every built English page's article text (the proof lines and tables included)."""
    out = []
    for page in sorted((site / "en").rglob("index.html")):
        body = page.read_text(encoding="utf-8")
        article = re.search(r"<article[^>]*>(.*?)</article>", body, re.S)
        text = re.sub(r"<(pre|code)\b.*?</\1>", " ", article[1] if article else "", flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        out += [f"built {page.relative_to(site).as_posix()}: {p}" for p in problems_in(" ".join(text.split()))]
    return out
