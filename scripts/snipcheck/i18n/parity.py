"""Parity of translations: every English page shows the same chapter as its Russian original.

A page pair is `docs/x.md` (Russian, the original) and `docs/x.en.md` (English). The rules:

- both pages exist;
- the ordered list of snippet includes (file and section) is the same;
- the set of explicit heading ids (`## Title { #id }`) is the same, so anchors work in both languages;
- the counts of tables, admonitions (`!!!`/`???`), content tabs, code blocks and mermaid diagrams match;
- the English page records in its front matter `source_sha256:` — the sha256 of the Russian page it was
  translated from (front matter excluded) — and that hash is current;
- mkdocs.yml keeps `fallback_to_default: false`, and each built English page came from its own .en.md.

Each rule is a function over `docs` (and the built site) returning problems as strings naming the
page pair, so tests can run the same rules on deliberately broken trees in a temporary directory.
Standard library only: `python -m snipcheck stamp` uses this module without the project's venv.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import pages
from ..model.pages import (
    english_for,
    english_pages,
    front_matter_value,
    is_english,
    pairs,
    russian_for,
    russian_pages,
    show,
    split_front_matter,
)
from ..model.pages import read as _read

STAMP_KEY = "source_sha256"
STAMP_TOOL = "PYTHONPATH=scripts python3 -m snipcheck stamp"

HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*$")
ATTR_LIST = re.compile(r"\{:?\s*(?P<attrs>[^}]*)\}\s*$")
TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
ADMONITION = re.compile(r"^\s*(!!!|\?\?\?\+?)\s+\S")
CONTENT_TAB = re.compile(r'^\s*===\+?\s+"')
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")

BLOCK_KINDS = ("tables", "admonitions", "content tabs", "code blocks", "mermaid diagrams")

__all__ = [
    "english_for",
    "english_pages",
    "front_matter_value",
    "is_english",
    "russian_for",
    "russian_pages",
    "split_front_matter",
]


def pair_name(ru: Path, docs: Path) -> str:
    return f"{show(ru, docs)} ↔ {show(english_for(ru), docs)}"


# ---- the translation stamp ------------------------------------------------------------------


def source_hash(ru: Path) -> str:
    """sha256 of the Russian page's content, its own front matter excluded."""
    _, body = split_front_matter(_read(ru))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def recorded_hash(en: Path) -> str | None:
    return front_matter_value(_read(en), STAMP_KEY)


def with_stamp(text: str, digest: str) -> str:
    """The English page's text with `source_sha256: digest` in its front matter (added if absent)."""
    line = f"{STAMP_KEY}: {digest}"
    front, body = split_front_matter(text)
    if front is None:
        return f"---\n{line}\n---\n\n{text}"
    pattern = re.compile(rf"^{re.escape(STAMP_KEY)}:.*$", re.M)
    new_front = pattern.sub(line, front, count=1) if pattern.search(front) else f"{line}\n{front}"
    return f"---\n{new_front}---\n{body}"


def stamp(en: Path) -> bool:
    """Record the current hash of the Russian original in `en`; True when the file changed."""
    ru = russian_for(en)
    if not ru.is_file():
        raise FileNotFoundError(f"{en}: no Russian original {ru} to stamp from")
    raw = en.read_text(encoding="utf-8")
    new = with_stamp(raw.replace("\r\n", "\n"), source_hash(ru))
    if new == raw:
        return False
    en.write_text(new, encoding="utf-8")
    return True


def stamp_problem(en: Path, docs: Path) -> str | None:
    """Why `en`'s stamp is not current, or None."""
    ru = russian_for(en)
    if not ru.is_file():
        return None  # reported by check_missing
    recorded, current = recorded_hash(en), source_hash(ru)
    fix = f"run `{STAMP_TOOL} {show(en, docs)}`"
    if recorded is None:
        return (
            f"{show(en, docs)} has no `{STAMP_KEY}:` front matter — check that it translates the current "
            f"{show(ru, docs)}, then {fix}"
        )
    if recorded != current:
        return (
            f"{show(en, docs)} was translated from an older {show(ru, docs)} (recorded {recorded[:12]}…, "
            f"current {current[:12]}…): update the translation, then {fix}"
        )
    return None


def check_stamps(docs: Path) -> list[str]:
    return [p for _, en in pairs(docs) if (p := stamp_problem(en, docs))]


# ---- the structure of a page ----------------------------------------------------------------


@dataclass
class Structure:
    includes: list[str] = field(default_factory=list)  # "path" or "path:section", in order
    heading_ids: dict[str, int] = field(default_factory=dict)  # explicit id -> line
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BLOCK_KINDS, 0))
    h1: str | None = None


def heading_ids(text: str) -> list[str]:
    """Explicit ids in a heading's trailing attr-list: `## Title { #id .class }` -> ["id"]."""
    m = ATTR_LIST.search(text)
    if not m:
        return []
    return [tok[1:] for tok in m["attrs"].split() if tok.startswith("#") and len(tok) > 1]


def structure(page: Path) -> Structure:
    s = Structure()
    parsed = pages.parse(page)
    for block in parsed.blocks:
        s.counts["mermaid diagrams" if block.lang == "mermaid" else "code blocks"] += 1
        s.includes += [inc.target for inc in block.includes]
    front, _ = split_front_matter(_read(page))
    front_lines = 0 if front is None else front.count("\n") + 2
    prose = [(no, line) for no, line in parsed.prose if no > front_lines]
    previous = ""
    for no, line in prose:
        if h := HEADING.match(line):
            if s.h1 is None and len(h["level"]) == 1:
                s.h1 = ATTR_LIST.sub("", h["text"]).strip()
            for hid in heading_ids(h["text"]):
                s.heading_ids.setdefault(hid, no)
        if TABLE_DELIMITER.match(line) and "|" in line and "|" in previous:
            s.counts["tables"] += 1
        if ADMONITION.match(line):
            s.counts["admonitions"] += 1
        if CONTENT_TAB.match(line):
            s.counts["content tabs"] += 1
        previous = line
    return s


# ---- the rules ------------------------------------------------------------------------------


def check_missing(docs: Path) -> list[str]:
    """Every Russian page has an English translation, and every English page a Russian original."""
    problems = []
    for ru in russian_pages(docs):
        if not english_for(ru).is_file():
            problems.append(
                f"{pair_name(ru, docs)}: the English page is missing — translate "
                f"{show(ru, docs)} into {show(english_for(ru), docs)} (with fallback_to_default: "
                f"false the build has no page for it)"
            )
    for en in english_pages(docs):
        if not russian_for(en).is_file():
            problems.append(
                f"{show(russian_for(en), docs)} ↔ {show(en, docs)}: the Russian original is missing "
                f"— add it or remove the English page"
            )
    return problems


def _describe_diff(ru: list[str], en: list[str]) -> list[str]:
    """One line per include that is missing, extra or moved, in page order."""
    only_ru: list[tuple[int, str]] = []
    only_en: list[tuple[int, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ru, b=en, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            only_ru += [(k + 1, ru[k]) for k in range(i1, i2)]
        if op in ("insert", "replace"):
            only_en += [(k + 1, en[k]) for k in range(j1, j2)]
    lines: list[tuple[int, str]] = []
    for pos, item in only_ru:
        match = next((m for m in only_en if m[1] == item), None)
        if match:
            only_en.remove(match)
            lines.append((pos, f"  {item}: #{pos} in ru, #{match[0]} in en (moved)"))
        else:
            lines.append((pos, f"  {item}: #{pos} in ru, missing in en"))
    lines += [(pos, f"  {item}: #{pos} in en, not in ru") for pos, item in only_en]
    return [text for _, text in sorted(lines)]


def check_includes(docs: Path) -> list[str]:
    """The same snippet includes (file and section) in the same order."""
    problems = []
    for ru, en in pairs(docs):
        a, b = structure(ru).includes, structure(en).includes
        if a != b:
            how = "order differs" if sorted(a) == sorted(b) else "different includes"
            problems.append(
                f"{pair_name(ru, docs)}: snippet includes differ ({how}; ru {len(a)}, en {len(b)}) "
                f"— the English page must include the same files and sections in the same order:\n"
                + "\n".join(_describe_diff(a, b))
            )
    return problems


def check_heading_ids(docs: Path) -> list[str]:
    """The same explicit heading ids, so #anchors work in both languages."""
    problems = []
    for ru, en in pairs(docs):
        a, b = structure(ru).heading_ids, structure(en).heading_ids
        if set(a) != set(b):
            parts = [
                f"only in ru: {', '.join(f'#{h} (line {a[h]})' for h in sorted(set(a) - set(b)))}"
                if set(a) - set(b)
                else "",
                f"only in en: {', '.join(f'#{h} (line {b[h]})' for h in sorted(set(b) - set(a)))}"
                if set(b) - set(a)
                else "",
            ]
            problems.append(
                f"{pair_name(ru, docs)}: explicit heading ids differ — "
                f"{'; '.join(p for p in parts if p)} (give the translated heading the same "
                f"`{{ #id }}`)"
            )
    return problems


def check_block_counts(docs: Path) -> list[str]:
    """The same number of tables, admonitions, content tabs, code blocks and mermaid diagrams."""
    problems = []
    for ru, en in pairs(docs):
        a, b = structure(ru).counts, structure(en).counts
        diff = [f"{kind}: ru {a[kind]}, en {b[kind]}" for kind in BLOCK_KINDS if a[kind] != b[kind]]
        if diff:
            problems.append(f"{pair_name(ru, docs)}: {'; '.join(diff)} — translate every block of the original")
    return problems


# ---- paragraph by paragraph ----------------------------------------------------------------------

INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)[^)]*\)")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
PLACEHOLDER = re.compile(r"<[^<>`]*>")  # `sha-<7 символов>` / `sha-<7 characters>`: translated on purpose
TEMPLATE = re.compile(r"\{\{.*?\}\}")  # {{ measured … }}: the same placeholder on both sides
ATTRS = re.compile(r"\{[:#.][^}]*\}")


@dataclass(frozen=True)
class Paragraph:
    line: int
    text: str

    @property
    def facts(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """What must agree across languages: inline code, link targets and numbers (each as a sorted list —
        a translation may reorder a sentence)."""
        text = TEMPLATE.sub(" ", ATTRS.sub(" ", self.text))
        codes = sorted(PLACEHOLDER.sub("<…>", c) for c in INLINE_CODE.findall(text))
        rest = INLINE_CODE.sub(" ", text)
        links = sorted(LINK_TARGET.findall(rest))
        numbers = sorted(n.replace(",", ".") for n in NUMBER.findall(LINK_TARGET.sub(" ", rest)))
        return tuple(codes), tuple(links), tuple(numbers)


def paragraphs(page: Path) -> list[Paragraph]:
    """A page's prose blocks (runs of non-blank lines outside code fences; a list, a table or an admonition's
    body is one block each), with the line each starts on."""
    parsed = pages.parse(page)
    front, _ = split_front_matter(_read(page))
    front_lines = 0 if front is None else front.count("\n") + 2
    out: list[Paragraph] = []
    current: list[str] = []
    start = previous = 0
    for no, line in parsed.prose:
        if no <= front_lines:
            continue
        if not line.strip() or no != previous + 1:
            if current:
                out.append(Paragraph(start, " ".join(current)))
            current = []
        if line.strip():
            if not current:
                start = no
            current.append(line.strip())
        previous = no
    if current:
        out.append(Paragraph(start, " ".join(current)))
    return out


def check_paragraphs(docs: Path) -> list[str]:
    """The English page has the Russian page's paragraphs, in order, each with the same inline code, link
    targets and numbers: a paragraph dropped, added or changed on one side fails here, not only a page."""
    problems = []
    for ru, en in pairs(docs):
        a, b = paragraphs(ru), paragraphs(en)
        name = pair_name(ru, docs)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x.facts != y.facts:
                kinds = ("inline code", "links", "numbers")
                pairs_of_facts = zip(kinds, x.facts, y.facts, strict=True)
                diff = "; ".join(f"{kind}: ru {list(u)} / en {list(v)}" for kind, u, v in pairs_of_facts if u != v)
                problems.append(
                    f"{name}: paragraph {i + 1} (ru line {x.line}, en line {y.line}) differs — {diff}; translate the "
                    f"same facts (or fix the side that drifted)"
                )
                break  # one misalignment shifts the rest: report the first
        if len(a) != len(b):
            problems.append(
                f"{name}: {len(a)} paragraphs in Russian, {len(b)} in English — a paragraph is missing or extra "
                f"(the first difference above, or at the end of the shorter page)"
            )
    return problems


def check_all(docs: Path) -> list[str]:
    return (
        check_missing(docs)
        + check_includes(docs)
        + check_heading_ids(docs)
        + check_block_counts(docs)
        + check_stamps(docs)
    )


# ---- configuration and the built site -------------------------------------------------------


def check_no_fallback(mkdocs_yml: Path) -> list[str]:
    """mkdocs-static-i18n must not build a missing English page from the Russian one (its default does)."""
    text = mkdocs_yml.read_text(encoding="utf-8")
    values = re.findall(r"^\s*fallback_to_default:\s*(\S+)\s*(?:#.*)?$", text, re.M)
    if values != ["false"]:
        found = ", ".join(values) if values else "not set (the plugin's default is true)"
        return [
            f"{mkdocs_yml.name}: i18n `fallback_to_default` is {found} — keep exactly one "
            f"`fallback_to_default: false`, or a missing .en.md is silently built from the Russian page"
        ]
    return []


def built_html(site: Path, key: str, lang: str) -> Path:
    """The built page for `key` (`x.md`, `examples/x.md`, `index.md`) in a language."""
    stem = key[: -len(".md")]
    url = "" if stem == "index" else stem[: -len("index")] if stem.endswith("/index") else stem + "/"
    return site / ("en/" if lang == "en" else "") / url / "index.html"


def _strip_markdown(text: str) -> str:
    text = re.sub(r"[`*_]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split())


def _html_text(fragment: str) -> str:
    fragment = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _cyrillic_share(text: str) -> float:
    cyr, lat = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    return cyr / (cyr + lat) if cyr + lat else 0.0


def check_built_english(site: Path, docs: Path) -> list[str]:
    """Each built English page is the English translation, not a fallback copy of the Russian page."""
    problems = []
    for ru, en in pairs(docs):
        key = ru.relative_to(docs).as_posix()
        out = built_html(site, key, "en")
        name = f"{pair_name(ru, docs)}: built {out.relative_to(site).as_posix()}"
        if not out.is_file():
            problems.append(f"{name} does not exist")
            continue
        page = out.read_text(encoding="utf-8")
        if '<html lang="en"' not in page:
            problems.append(f'{name} is not built as English (no <html lang="en")')
        m = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
        built_h1 = _html_text(m[1]) if m else ""
        ru_h1, en_h1 = (_strip_markdown(structure(p).h1 or "") for p in (ru, en))
        if en_h1 and built_h1 != en_h1:
            problems.append(f"{name} has the H1 {built_h1!r}, not the English page's {en_h1!r}")
        if ru_h1 and ru_h1 != en_h1 and ru_h1 in built_h1:
            problems.append(f"{name} shows the Russian H1 {ru_h1!r} — it was built from the Russian page")
        article = re.search(r"<article[^>]*>(.*?)</article>", page, re.S)
        built_share = _cyrillic_share(_html_text(article[1] if article else page))
        source_share = _cyrillic_share(split_front_matter(_read(en))[1])
        if built_share > source_share + 0.1:
            problems.append(
                f"{name} is {built_share:.0%} Cyrillic while {show(en, docs)} is "
                f"{source_share:.0%} — it was built from the Russian page"
            )
    return problems


@dataclass(frozen=True)
class SearchDoc:
    location: str
    title: str
    text: str


def search_docs(site: Path, lang: str) -> list[SearchDoc]:
    """The documents of one language's search index (scripts/hooks/per_language.py writes one per language)."""
    index = site / ("en/" if lang == "en" else "") / "search" / "search_index.json"
    data = json.loads(index.read_text(encoding="utf-8"))
    return [SearchDoc(d.get("location", ""), d.get("title", ""), d.get("text", "")) for d in data["docs"]]


def search_hits(docs: Iterable[SearchDoc], word: str) -> list[str]:
    """Locations of search documents whose title or text contains `word` (case-insensitive)."""
    w = word.casefold()
    return [d.location for d in docs if w in d.text.casefold() or w in d.title.casefold()]
