"""Checks of the built site's HTML, no browser: internal links and anchors, placeholder hosts, English
pages free of Russian interface text, links to the Russian-only course marked as such, one search index
per language.

Each check takes the built site directory and returns problems as "page: what is wrong — what to do"
strings, so tests run the same checks on deliberately broken copies of a built site.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .build import built_pages

CYRILLIC_PHRASE = re.compile(r"[\u0400-\u04FF]+(?:[ \t\-]+[\u0400-\u04FF]+)*")
PLACEHOLDER_HOST = re.compile(r"\b(?:https?:)?//(?:[\w-]+\.)*example\.(?:com|org|net|github\.io)\b", re.I)
UPSTREAM = "https://github.com/AlexandrTolstuhin/csharp-to-go"
TEXT_ATTRS = ("title", "alt", "aria-label", "placeholder")

# Russian text that English pages show on purpose: (page URL or "*" for every page, phrase) -> why.
DELIBERATE_RUSSIAN: dict[tuple[str, str], str] = {
    ("*", "Русский"): "the language switcher names each language in that language",
    ("en/mistakes/", "Зачем"): "quotes the original's comment `# Зачем??` that the text explains",
    ("en/mistakes/", "через"): 'quotes the original\'s comment "Docker kill через 10s" (translated beside it)',
    ("en/errata/", "Содержание"): "names the original's heading «Содержание» that the site navigation replaced",
}


@dataclass
class ParsedPage:
    ids: set[str] = field(default_factory=set)
    urls: list[tuple[str, str]] = field(default_factory=list)  # (tag.attr, value)
    text: list[str] = field(default_factory=list)  # visible text and text attributes
    lang: str = ""


class _Parser(HTMLParser):
    URL_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src", "iframe": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
        for key in ("id", "name"):
            if key in a and tag != "meta":
                self.page.ids.add(a[key])
        want = self.URL_ATTRS.get(tag)
        if want and a.get(want):
            self.page.urls.append((f"{tag}.{want}", a[want]))
        self.page.text.extend(a[k] for k in TEXT_ATTRS if a.get(k))
        if tag == "meta" and a.get("name") == "description":
            self.page.text.append(a.get("content", ""))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.page.text.append(data)


def parse(file: Path) -> ParsedPage:
    parser = _Parser()
    parser.feed(file.read_text(encoding="utf-8"))
    return parser.page


def _site_url(site: Path) -> str:
    """The site_url the build used (from the home page's canonical link)."""
    m = re.search(r'<link rel="canonical" href="([^"]+)"', (site / "index.html").read_text(encoding="utf-8"))
    return m[1] if m else ""


def _target_file(site: Path, path: str) -> Path:
    target = site / unquote(path).lstrip("/")
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def internal_link_problems(site: Path) -> list[str]:
    """Every internal href/src of every built page resolves to a file, and every #anchor to an id there."""
    problems: list[str] = []
    site_url = _site_url(site)
    base_path = urlsplit(site_url).path or "/"
    cache: dict[Path, ParsedPage] = {}

    def parsed(file: Path) -> ParsedPage:
        if file not in cache:
            cache[file] = parse(file)
        return cache[file]

    for page in built_pages(site) + [_404(site)]:
        here = f"http://site.invalid/{page.url}"
        for attr, value in parsed(page.file).urls:
            if value.startswith(site_url) and site_url:
                value = "/" + value[len(site_url) :]
                absolute = urljoin("http://site.invalid/", value)
            else:
                parts = urlsplit(value)
                if parts.scheme or parts.netloc:
                    continue  # external: not this check's business
                if value.startswith("/") and not value.startswith(base_path):
                    problems.append(
                        f"/{page.url}: {attr}={value!r} is outside the site's path {base_path} "
                        f"(site_url {site_url}) — it breaks on GitHub Pages; link relatively"
                    )
                    continue
                if value.startswith("/"):
                    value = "/" + value[len(base_path) :]
                absolute = urljoin(here, value)
            parts = urlsplit(absolute)
            target = _target_file(site, parts.path)
            if not target.is_file():
                problems.append(
                    f"/{page.url}: {attr}={value!r} points at {parts.path}, which the build "
                    f"did not produce — fix the link or the page"
                )
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in parsed(target).ids:
                problems.append(
                    f"/{page.url}: {attr}={value!r}: {parts.path} has no id {fragment!r} — "
                    f"fix the anchor (headings get explicit ids: `## Title {{ #id }}`)"
                )
    return problems


def _404(site: Path):
    from .build import BuiltPage

    return BuiltPage("ru", "404.html", site / "404.html")


def placeholder_host_problems(site: Path) -> list[str]:
    """No example.* host (a placeholder site_url or repo_url) anywhere in the built site's text files."""
    problems = []
    for file in sorted(site.rglob("*")):
        if file.suffix not in (".html", ".xml", ".json", ".txt", ".js") or not file.is_file():
            continue
        for m in PLACEHOLDER_HOST.finditer(file.read_text(encoding="utf-8", errors="replace")):
            problems.append(
                f"{file.relative_to(site)}: placeholder host {m[0]!r} — set SITE_URL/REPO_URL "
                f"(see README, Publishing) instead of a placeholder in mkdocs.yml"
            )
    return problems


def russian_on_english_pages(site: Path, allowed: dict[tuple[str, str], str] = DELIBERATE_RUSSIAN) -> list[str]:
    """English pages show no Cyrillic outside the listed deliberate quotes (footer, nav, UI strings)."""
    problems = []
    for page in built_pages(site):
        if page.lang != "en":
            continue
        found = set()
        for chunk in parse(page.file).text:
            found.update(CYRILLIC_PHRASE.findall(chunk))
        stray = sorted(p for p in found if ("*", p) not in allowed and (page.url, p) not in allowed)
        if stray:
            problems.append(
                f"/{page.url}: Russian text on an English page: {stray} — translate it (the footer: "
                f"`copyright` of the `en` language in mkdocs.yml) or, if it is a deliberate quote, "
                f"list it in snipcheck/sitehtml.py DELIBERATE_RUSSIAN with the reason"
            )
    return problems


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def upstream_link_problems(site: Path) -> list[str]:
    """On each English page, the first link to the (Russian-only) upstream course says it is in Russian."""
    problems = []
    for page in built_pages(site):
        if page.lang != "en":
            continue
        html = page.file.read_text(encoding="utf-8")
        article = html[html.find("<article") :]
        m = re.search(rf'<a [^>]*href="{re.escape(UPSTREAM)}[^"]*"[^>]*>(.*?)</a>', article, re.S)
        if m is None:
            continue
        after = _text(article[m.end() : m.end() + 400]).lstrip()
        if not after.startswith("(in Russian"):
            problems.append(
                f"/{page.url}: the first link to the upstream course ({_text(m[1]).strip()!r}) is not "
                f'followed by "(in Russian)" — readers of the English page must know it is Russian '
                f"(it is followed by {after[:40]!r})"
            )
    return problems


def search_index_problems(site: Path) -> list[str]:
    """One search index per language; every entry of a language's index lands on a page of that language."""
    problems = []
    for lang, root in (("ru", ""), ("en", "en/")):
        index_file = site / root / "search" / "search_index.json"
        if not index_file.is_file():
            problems.append(f"{root}search/search_index.json is missing — scripts/hooks/per_language.py writes it")
            continue
        index = json.loads(index_file.read_text(encoding="utf-8"))
        if lang not in index["config"].get("lang", []):
            problems.append(
                f"{root}search/search_index.json: lunr languages {index['config'].get('lang')} "
                f"lack {lang!r} — its word forms would not be stemmed"
            )
        if not index["docs"]:
            problems.append(f"{root}search/search_index.json has no entries")
        langs: dict[Path, str | None] = {}
        for doc in index["docs"]:
            target = _target_file(site, urlsplit(urljoin(f"http://s.invalid/{root}", doc["location"])).path)
            if target not in langs:
                langs[target] = parse(target).lang if target.is_file() else None
            found = langs[target]
            if found != lang:
                problems.append(
                    f"{root}search/search_index.json: entry {doc['location']!r} ({doc['title']!r}) "
                    f"leads to a page in {found or 'no file'}, not {lang!r}"
                )
    return problems
