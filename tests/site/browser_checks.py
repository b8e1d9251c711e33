"""What the site tier's tour checks on a page, in a real browser: loads, code blocks and their copy buttons,
the language switcher, per-language search, the phone layout. Each check is a function returning
problems, so the negative tests run the very same function on a broken copy of the site.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from browser import CHROMIUM, DESKTOP, LAUNCH_ARGS, PHONE, SETTLED_JS, Watch, context, open_page, settle
from snipcheck.i18n import render as rendering
from snipcheck.model.paths import DOCS
from snipcheck.rules import inventory
from snipcheck.site import html_checks as sitehtml
from snipcheck.site.build import BuiltPage

# ---- checks ------------------------------------------------------------------------------------------------

COPY_TIMEOUT_MS = 10_000  # a copy button's asynchronous copy, waited for by deadline (a loaded CI machine is slow)
SCREENSHOT_MAX_HEIGHT = 2700  # px from the top (3 screens); a full capture of the longest pages (20000 px)
#                               costs seconds each


def load_problems(
    page: Any, watch: Watch, built: BuiltPage, base: str, shots: Path | None = None, navigate: bool = True
) -> list[str]:
    """Open one page (or, navigate=False, take the one just opened): no console error, no failed or non-200
    request; English pages show no Russian text outside the listed quotes; optionally a screenshot."""
    if navigate:
        open_page(page, base + built.url, watch)
    else:
        settle(page, watch)
    problems = watch.take()
    if built.lang == "en":
        text = page.evaluate("() => document.body.innerText")
        found = set(sitehtml.CYRILLIC_PHRASE.findall(text))
        stray = sorted(
            p
            for p in found
            if ("*", p) not in sitehtml.DELIBERATE_RUSSIAN and (built.url, p) not in sitehtml.DELIBERATE_RUSSIAN
        )
        if stray:
            problems.append(f"/{built.url}: the English page shows Russian text {stray}")
    if shots is not None:
        out = shots / built.lang / f"{built.url.removeprefix('en/').strip('/').replace('/', '-') or 'index'}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        height = min(page.evaluate("() => document.documentElement.scrollHeight"), SCREENSHOT_MAX_HEIGHT)
        page.screenshot(
            path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": height}
        )
    return problems


_CODE_JS = """() => [...document.querySelectorAll('article .highlight pre > code')].map(c => c.textContent)"""
# Each code block is followed by its proof line (scripts/hooks/snipcheck_proof.py) before the next block.
_PROOF_JS = """() => {
  const seq = [...document.querySelectorAll('article .highlight, article details.snipcheck-proof')];
  return seq.filter(el => el.matches('.highlight')).map(el => {
    const next = seq[seq.indexOf(el) + 1];
    return Boolean(next && next.matches('details.snipcheck-proof'));
  });
}"""
_COPY_JS = """async (timeoutMs) => {
  const out = [];
  let wait = timeoutMs;
  for (const code of document.querySelectorAll('article .highlight pre > code')) {
    // a reader opens the collapsed block or selects the tab first
    for (let el = code; el; el = el.parentElement) {
      if (el.tagName === 'DETAILS') el.open = true;
      if (el.classList.contains('tabbed-block')) {
        const i = [...el.parentElement.children].indexOf(el);
        el.parentElement.parentElement.querySelectorAll(':scope > input')[i].click();
      }
    }
    const button = code.parentElement.querySelector('button.md-code__button[data-md-type=copy]');
    if (!button) { out.push(null); continue; }
    // the copy is asynchronous: wait for it by a deadline, not a count (a loaded machine is slow). The
    // page's clipboard writes need the document focused: a copy that times out is clicked once more
    // after focusing the window again (a tour once lost focus after block 19 and every later copy failed);
    // a button that copies nothing fails both clicks
    let text = '\\u0000';
    for (let attempt = 0; attempt < 2 && text === '\\u0000'; attempt++) {
      window.focus();
      await navigator.clipboard.writeText('\\u0000');
      button.click();
      const deadline = performance.now() + wait;
      while (text === '\\u0000' && performance.now() < deadline) {
        await new Promise(r => setTimeout(r, 10));
        text = await navigator.clipboard.readText();
      }
    }
    // once a button has failed twice, the rest wait 1 s a click, so a broken page fails in bounded time
    if (text === '\\u0000') wait = Math.min(wait, 1000);
    out.push(text);
  }
  return out;
}"""


def expected_blocks(built: BuiltPage, docs: Path = DOCS) -> list[tuple[str, str]]:
    """(include targets, text) of every code block on the page, in order, as the page's language renders
    it; a fence may hold several includes (blank lines between them stay)."""
    source = built.source(docs)
    includes, _problems = inventory.scan_page(source)
    lines = source.read_text(encoding="utf-8").splitlines()
    blocks: list[list[Any]] = []
    for inc in includes:
        if blocks and all(not t.strip() for t in lines[blocks[-1][-1].line : inc.line - 1]):
            blocks[-1].append(inc)
        else:
            blocks.append([inc])
    out = []
    for block in blocks:
        parts: list[str] = []
        for prev, inc in zip([None, *block], block, strict=False):
            if prev is not None:
                parts.extend([""] * (inc.line - prev.line - 1))
            parts.append(rendering.as_rendered(inc.path, inc.section, built.lang))
        # Pygments drops a block's leading and trailing newlines
        out.append((" + ".join(_target(i) for i in block), "\n".join(parts).strip("\n")))
    return out


def _target(inc: Any) -> str:
    return f"{inc.path}:{inc.section}" if inc.section else inc.path


def code_block_problems(page: Any, built: BuiltPage, base: str, docs: Path = DOCS) -> tuple[int, list[str]]:
    """Every rendered code block equals its snippet as the language renders it, and its copy button copies
    exactly that. Returns (blocks checked, problems)."""
    if page.url != base + built.url:
        open_page(page, base + built.url)
    expected = expected_blocks(built, docs)
    shown = page.evaluate(_CODE_JS)
    copied = page.evaluate(_COPY_JS, COPY_TIMEOUT_MS)
    proofs = page.evaluate(_PROOF_JS)
    problems = [
        f"/{built.url}: code block {n} has no proof line under it" for n, has in enumerate(proofs, start=1) if not has
    ]
    if len(shown) != len(expected):
        problems.append(f"/{built.url}: {len(shown)} code blocks rendered, the page includes {len(expected)}")
    for n, ((target, want), got, copy) in enumerate(zip(expected, shown, copied, strict=False), start=1):
        if got.rstrip("\n") != want:
            problems.append(
                f"/{built.url}: code block {n} ({target}) differs from the snippet:\n"
                f"{_first_difference(want, got.rstrip(chr(10)))}"
            )
        if copy is None:
            problems.append(f"/{built.url}: code block {n} ({target}) has no copy button")
        elif copy == "\x00":
            problems.append(
                f"/{built.url}: the copy button of code block {n} ({target}) copied nothing "
                f"(the clipboard did not change within {COPY_TIMEOUT_MS / 1000:g} s of the click)"
            )
        elif copy != want:
            problems.append(
                f"/{built.url}: the copy button of code block {n} ({target}) copies other text:\n"
                f"{_first_difference(want, copy)}"
            )
    return len(shown), problems


def _first_difference(want: str, got: str) -> str:
    for i, (a, b) in enumerate(zip(want.split("\n"), got.split("\n"), strict=False), start=1):
        if a != b:
            return f"  line {i}: expected {a!r}\n  line {i}: shown    {b!r}"
    return f"  expected {len(want.splitlines())} lines, shown {len(got.splitlines())}"


def switch_problems(page: Any, to: BuiltPage, base: str) -> list[str]:
    """Clicking the header's language switcher on the open page leads to `to` (same page, other language)."""
    here = page.url
    with page.expect_navigation(wait_until="load"):
        # the link itself, clicked without the menu's hover animation (Material's click handlers still run)
        page.locator(f'.md-header .md-select a[hreflang="{to.lang}"]').dispatch_event("click")
    if page.url != base + to.url:
        return [f"{here}: the language switcher's {to.lang} link leads to {page.url}, not /{to.url}"]
    lang = page.evaluate("() => document.documentElement.lang")
    return [] if lang == to.lang else [f"/{to.url}: <html lang={lang!r}>, expected {to.lang!r}"]


@dataclass
class Tour:
    """What one pass over every page found: each Russian page is opened, checked, switched to its English
    twin (checked there), and switched back."""

    pages: set[str] = field(default_factory=set)
    code_blocks: int = 0
    load: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    switcher: list[str] = field(default_factory=list)
    network_retries: list[str] = field(default_factory=list)


# Chromium aborts requests in flight when the host's network interfaces change (net::ERR_NETWORK_CHANGED):
# the Docker and Kubernetes tiers beside the site create and remove bridges and veths all the time. Such
# an abort says nothing about the site, so the step it hit is done again (at most NETWORK_ATTEMPTS times);
# every other problem counts at once, and each retry is reported.
NETWORK_CHANGED = "ERR_NETWORK_CHANGED"
NETWORK_ATTEMPTS = 3
T = TypeVar("T")


def network_changed(problems: list[str]) -> bool:
    return any(NETWORK_CHANGED in p for p in problems)


def again_after_network_change(
    step: Callable[[], T], problems: Callable[[T], list[str]], what: str
) -> tuple[T, list[str]]:
    """Run `step`, and again while its problems hold NETWORK_CHANGED (NETWORK_ATTEMPTS runs at most).
    Returns the last run's result and one line per run that was redone."""
    redone: list[str] = []
    while True:
        got = step()
        if len(redone) + 1 == NETWORK_ATTEMPTS or not network_changed(problems(got)):
            return got, redone
        redone.append(f"{what}: {NETWORK_CHANGED}, done again")


def tour(browser: Any, pairs: list[tuple[BuiltPage, BuiltPage]], base: str, shots: Path) -> Tour:
    result = Tour()
    with context(browser, base) as (ctx, watch):
        page = ctx.new_page()

        def visit(ru: BuiltPage, en: BuiltPage) -> Tour:
            got = Tour()
            for built, twin, navigate in ((ru, en, True), (en, ru, False)):  # the switch leads to the twin
                got.load += load_problems(page, watch, built, base, shots, navigate=navigate)
                count, found = code_block_problems(page, built, base)
                got.code_blocks += count
                got.code += found
                got.pages.add(built.url)
                got.switcher += switch_problems(page, twin, base)
            got.load += watch.take()
            return got

        for ru, en in pairs:
            got, redone = again_after_network_change(
                lambda ru=ru, en=en: visit(ru, en), lambda g: g.load + g.code + g.switcher, f"/{ru.url} and /{en.url}"
            )
            result.network_retries += redone
            result.pages |= got.pages
            result.code_blocks += got.code_blocks
            result.load += got.load
            result.code += got.code
            result.switcher += got.switcher
    return result


_RESULTS_JS = """() => [document.querySelector('.md-search-result__meta')?.textContent || '',
  [...document.querySelectorAll('.md-search-result__item > a')].map(a => a.href)]"""


def search(page: Any, query: str) -> list[str]:
    """Type `query` into the search box of the open page; the result links, settled (two reads 200 ms
    apart agree)."""
    if page.viewport_size["width"] < 960:
        page.click("label.md-header__button[for=__search]")
    else:
        page.click(".md-search__input")
    placeholder = page.evaluate(_RESULTS_JS)[0]
    page.fill(".md-search__input", query)
    page.keyboard.press("End")  # Material reads the query on key events; fill() types no keys
    page.wait_for_function(
        f"() => (document.querySelector('.md-search-result__meta')?.textContent || '') !== {placeholder!r}",
        timeout=10_000,
    )
    last = None
    for _ in range(50):
        now = page.evaluate(_RESULTS_JS)
        if now == last:
            break
        last = now
        page.wait_for_timeout(200)
    return last[1]


def search_problems(page: Any, lang: str, query: str, expect_page: str | None, base: str) -> list[str]:
    """Searching from the open page (language `lang`) finds `expect_page` (site-relative URL; None: nothing)
    and no result is in the other language."""
    hits = search(page, query)
    pages = sorted({urlsplit(h).path.removeprefix(urlsplit(base).path) for h in hits})
    problems = [
        f"search {query!r} on a {lang} page: result {p!r} is not a {lang} page"
        for p in pages
        if p.startswith("en/") != (lang == "en")
    ]
    if expect_page is not None and expect_page not in pages:
        problems.append(f"search {query!r} on a {lang} page did not find /{expect_page} (found {pages})")
    if expect_page is None and pages:
        problems.append(f"search {query!r} on a {lang} page should find nothing, found {pages}")
    return problems


_NAV_LINKS = ".md-sidebar--primary nav.md-nav--primary a.md-nav__link[href]:not([href^='#'])"
_NAV_LINKS_JS = f"""() => [...document.querySelectorAll("{_NAV_LINKS}")]
  .map(a => a.href.split('#')[0]).filter((h, i, all) => all.indexOf(h) === i)"""
_EXPAND_JS = f"""(href) => {{
  const a = [...document.querySelectorAll("{_NAV_LINKS}")]
    .find(x => x.href.split('#')[0] === href);
  if (!a) return null;
  const toggles = [];
  for (let li = a.closest('li.md-nav__item--nested'); li; li = li.parentElement.closest('li.md-nav__item--nested')) {{
    const input = li.querySelector(':scope > input.md-nav__toggle');
    if (input) toggles.unshift(input.id);
  }}
  return toggles;
}}"""


def phone_problems(
    page: Any, pages: list[BuiltPage], base: str, visit: set[str] | None = None
) -> tuple[int, list[str]]:
    """At phone size: from the first page, the navigation drawer lists every page of the language and reaches
    each (by tapping the drawer button, the sections and the link), and no page scrolls horizontally.
    `visit`: the site-relative URLs to walk to (a --changed run's pages; None: all). Returns (reached,
    problems)."""
    problems: list[str] = []
    open_page(page, base + pages[0].url)
    in_nav = page.evaluate(_NAV_LINKS_JS)
    wanted = {base + p.url for p in pages}
    if set(in_nav) != wanted:
        problems.append(
            f"the drawer of /{pages[0].url} lists {sorted(set(in_nav) - wanted)} extra and lacks "
            f"{sorted(wanted - set(in_nav))}"
        )
    reached = 0
    for href in in_nav:
        if visit is not None and href.removeprefix(base) not in visit:
            continue
        if page.url.split("#")[0] == href:  # the page the walk starts on: reached by loading it
            reached += 1
            problems += sideways_problems(page)
            continue
        page.click('label.md-header__button[for="__drawer"]')
        toggles = page.evaluate(_EXPAND_JS, href) or []
        # leave open sections the target is not in, deepest first (their panel's back arrow)
        open_ids = page.evaluate(
            "() => [...document.querySelectorAll('.md-sidebar--primary input.md-nav__toggle:checked')].map(i => i.id)"
        )
        for toggle in reversed(open_ids):
            if toggle not in toggles:
                page.locator(f'.md-sidebar--primary label.md-nav__title[for="{toggle}"]').first.click()
        for toggle in toggles:
            label = page.locator(f'.md-sidebar--primary label.md-nav__link[for="{toggle}"]').first
            if not page.is_checked(f"#{toggle}"):
                label.click()
        index = page.evaluate(
            f"""(href) => [...document.querySelectorAll("{_NAV_LINKS}")].findIndex(
            a => a.href.split('#')[0] === href && a.checkVisibility())""",
            href,
        )
        target = page.locator(_NAV_LINKS).nth(index) if index >= 0 else None
        if target is None:
            problems.append(f"phone: the drawer shows no visible link to {href} (sections {toggles})")
            open_page(page, href)
        else:
            target.click()
            page.wait_for_load_state("load")
            if page.url.split("#")[0] != href:
                problems.append(f"phone: the drawer link to {href} led to {page.url}")
            else:
                reached += 1
        page.wait_for_function(SETTLED_JS, timeout=15_000)
        problems += sideways_problems(page)
    return reached, problems


def sideways_problems(page: Any) -> list[str]:
    wide = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    return (
        [f"phone: {page.url} scrolls horizontally by {wide}px (a wide element must scroll inside itself)"]
        if wide > 0
        else []
    )


class PhoneWalks:
    """The phone walks of both languages in a thread of their own, with their own Playwright and chromium,
    while the main thread tours the site (two cores: about 20 s off the tier's wall time)."""

    def __init__(
        self, sync_api: Any, pages: dict[str, list[BuiltPage]], base: str, visit: set[str] | None = None
    ) -> None:
        self.results: dict[str, tuple[int, list[str]]] = {}
        self.network_retries: list[str] = []
        self.error: BaseException | None = None
        self.visit = visit
        self._thread = threading.Thread(target=self._run, args=(sync_api, pages, base), name="phone-walks", daemon=True)
        self._thread.start()

    def _run(self, sync_api: Any, pages: dict[str, list[BuiltPage]], base: str) -> None:
        try:
            with sync_api.sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
                try:
                    for lang, lang_pages in pages.items():
                        self.results[lang], redone = again_after_network_change(
                            lambda lang_pages=lang_pages: self._walk(browser, lang_pages, base),
                            lambda r: r[1],
                            f"phone walk ({lang})",
                        )
                        self.network_retries += redone
                finally:
                    browser.close()
        except BaseException as exc:  # re-raised in the test that reads the result
            self.error = exc

    def _walk(self, browser: Any, pages: list[BuiltPage], base: str) -> tuple[int, list[str]]:
        with context(browser, base, PHONE) as (ctx, watch):
            reached, problems = phone_problems(ctx.new_page(), pages, base, self.visit)
            return reached, problems + watch.take()

    def result(self, lang: str, timeout: float = 150) -> tuple[int, list[str]]:
        self._thread.join(timeout)
        if self._thread.is_alive():
            pytest.fail(f"the phone walks did not finish within {timeout} s", pytrace=False)
        if self.error is not None:
            raise self.error
        return self.results[lang]
