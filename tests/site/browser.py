"""The site tier's browser: Debian's chromium driven by Playwright for Python, the built site served on
127.0.0.1, a page watched for console errors and failed requests, and a page opened and settled. What the
tour checks on each page is in browser_checks.py.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from snipcheck.model.paths import BUILD
from support import require

CHROMIUM = Path(os.environ.get("SNIPCHECK_CHROMIUM", "/usr/bin/chromium"))
INSTALL = (
    "install them with `apt-get install -y chromium` (Debian's package) and "
    "`.venv/bin/pip install -r requirements.txt` (Playwright for Python)"
)
# Root-safe headless flags; no network besides the test server (see EXTERNAL_STUBS).
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Material loads mermaid from unpkg (`mermaid@11`) for the diagrams; the test machine cannot reach unpkg,
# so the browser gets this pinned copy from the npm registry (scripts/fetch-mermaid.sh) and renders for real.
MERMAID_VERSION = "11.17.2"
MERMAID_JS = BUILD / "vendor" / f"mermaid-{MERMAID_VERSION}.min.js"
MERMAID_URL = "https://unpkg.com/mermaid@11/dist/mermaid.min.js"

# Other hosts a page of the published site legitimately asks for. The test machine reaches none of them,
# so the browser gets an empty answer of the right type (a reader's browser gets the real one); any other
# host is a failure.
EXTERNAL_STUBS: dict[str, tuple[str, str, str]] = {
    "fonts.googleapis.com": ("text/css", "", "Material's theme font (Roboto) stylesheet"),
    "fonts.gstatic.com": ("font/woff2", "", "the font files that stylesheet names"),
    "api.github.com": ("application/json", "{}", "repository facts beside the header's repository link"),
}

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def require_browser() -> Any:
    """The Playwright module, or skip (locally) / fail (CI) naming what is missing."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    require(sync_api is not None, f"Playwright for Python is not installed; {INSTALL}")
    require(
        CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
        f"{CHROMIUM} (Debian's chromium) is missing; {INSTALL}; SNIPCHECK_CHROMIUM names another binary",
    )
    require(
        MERMAID_JS.is_file(),
        f"{MERMAID_JS.relative_to(BUILD.parent)} (mermaid for the diagrams) is missing; "
        f"get it with `bash scripts/fetch-mermaid.sh` (npm registry)",
    )
    return sync_api


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site under `prefix` only, like GitHub Pages serves a project site under /<repo>/."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "\0outside-the-site-path")  # a 404
        return super().translate_path("/" + path[len(self.prefix) :])

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser dropped a request: not an error
            super().handle_error(request, client_address)


@contextmanager
def serve(directory: Path, prefix: str = "/") -> Iterator[str]:
    """Serve `directory` at http://127.0.0.1:<free port><prefix>; yields that base URL; always stops.
    Give the path of the build's site_url as `prefix`: the site's absolute links carry it."""
    handler = type("Handler", (_SiteHandler,), {"prefix": prefix})
    server = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def copy_site(site: Path, dest: Path) -> Path:
    copy = dest / "site"
    shutil.copytree(site, copy)
    return copy


# ---- watching a page ---------------------------------------------------------------------------------------


@dataclass
class Watch:
    """Everything that went wrong while pages of one browser context loaded."""

    base: str
    problems: list[str] = field(default_factory=list)
    external: set[str] = field(default_factory=set)
    inflight: int = 0

    def attach(self, context: Any) -> None:
        context.route("**/*", self._route)
        context.on("page", self._page)
        # context-level: includes the search worker's requests
        context.on("request", lambda r: self._count(+1))
        context.on("requestfinished", lambda r: self._count(-1))
        context.on("requestfailed", self._failed)
        context.on(
            "response",
            lambda r: (
                r.status != 200
                and r.url.startswith(self.base)
                and self.problems.append(
                    f"HTTP {r.status} for {r.url} (asked by {r.frame.url if r.frame else 'a worker'})"
                )
            ),
        )

    def _failed(self, request: Any) -> None:
        self._count(-1)
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled because the test navigated on (a missing file is a 404, seen in `response`)
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _page(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"{page.url}: console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: uncaught exception: {e}"))

    def _count(self, delta: int) -> None:
        self.inflight += delta

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
            return
        if url == MERMAID_URL:
            self.external.add("unpkg.com")
            route.fulfill(status=200, content_type="text/javascript", path=str(MERMAID_JS))
            return
        host = urlsplit(url).hostname or url
        if host in EXTERNAL_STUBS:
            ctype, body, _why = EXTERNAL_STUBS[host]
            self.external.add(host)
            route.fulfill(status=200, content_type=ctype, body=body)
            return
        self.problems.append(f"request to an unexpected external host: {url} (allowed: {sorted(EXTERNAL_STUBS)})")
        route.abort()

    def take(self) -> list[str]:
        found, self.problems = self.problems, []
        return found


_NO_ANIMATIONS_JS = """document.addEventListener('DOMContentLoaded', () => {
  const style = document.createElement('style');
  style.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
  document.head.appendChild(style);
});"""


@contextmanager
def context(browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> Iterator[tuple[Any, Watch]]:
    """A fresh browser context (clipboard allowed, only the test server reachable) and its Watch; closes."""
    ctx = browser.new_context(viewport=viewport, locale="en-US", reduced_motion="reduce")
    ctx.add_init_script(_NO_ANIMATIONS_JS)  # the walk waits for no slide-in: seconds over a run
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.rstrip("/"))
    watch = Watch(base)
    watch.attach(ctx)
    try:
        yield ctx, watch
    finally:
        ctx.close()


SETTLED_JS = """() => document.fonts.status === 'loaded'
  && [...document.querySelectorAll('article .highlight pre > code')].every(
       c => c.parentElement.querySelector('button.md-code__button[data-md-type=copy]'))
  && [...document.querySelectorAll('article .mermaid')].every(
       m => m.tagName === 'DIV' && m.getBoundingClientRect().height > 40)"""


def open_page(page: Any, url: str, watch: Watch | None = None) -> None:
    """Go to `url` and wait until it has settled (see `settle`)."""
    page.goto(url, wait_until="load")
    settle(page, watch)


def settle(page: Any, watch: Watch | None = None) -> None:
    """Wait until Material has set the page up (copy buttons, diagrams, fonts) and, with a Watch, until no
    request is in flight."""
    page.wait_for_load_state("load")
    page.wait_for_function(SETTLED_JS, timeout=15_000)
    if watch is not None:
        for _ in range(200):
            if watch.inflight <= 0:
                break
            page.wait_for_timeout(25)
