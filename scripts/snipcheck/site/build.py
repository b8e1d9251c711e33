"""Building the site the way the Pages workflow does, and listing the built pages.

The publishing settings (`site_url`, `repo_url`, `edit_uri`) come from environment variables that
mkdocs.yml reads with `!ENV`; `.github/workflows/pages.yml` sets them from the repository it runs in.
The suite builds with the same variables for a stand-in repository, so what it checks is what Pages gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..model.paths import ROOT

# A stand-in for `github.repository`; any owner/name works, the build must not depend on it.
TEST_REPOSITORY = "snipcheck-ci/go-containerization"


def publishing_env(repository: str = TEST_REPOSITORY, branch: str = "main") -> dict[str, str]:
    """The variables pages.yml exports before `mkdocs build` (base_url as actions/configure-pages gives it)."""
    owner, name = repository.split("/", 1)
    return {
        "SITE_URL": f"https://{owner.lower()}.github.io/{name}/",
        "REPO_URL": f"https://github.com/{repository}",
        "EDIT_URI": f"edit/{branch}/docs/",
    }


class SiteBuildError(RuntimeError):
    pass


def build(out: Path, env: dict[str, str] | None = None, timeout: float = 240) -> None:
    """`mkdocs build --strict` into `out`; any warning fails it (SiteBuildError with mkdocs' output)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
    )
    if proc.returncode != 0:
        raise SiteBuildError(
            f"mkdocs build --strict failed (exit {proc.returncode}); fix the warnings below "
            f"(run `NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict` to see them all):\n"
            f"{proc.stderr[-6000:]}"
        )


@dataclass(frozen=True)
class BuiltPage:
    lang: str  # "ru" or "en"
    url: str  # site-relative, "" for the home page, "en/docker/" ...
    file: Path

    @property
    def name(self) -> str:
        return f"/{self.url}"

    def source(self, docs: Path) -> Path:
        """The Markdown page this was built from (`docker.en.md` for `en/docker/`)."""
        stem = (self.url[len("en/") :] if self.lang == "en" else self.url).rstrip("/") or "index"
        suffix = ".en.md" if self.lang == "en" else ".md"
        for candidate in (docs / f"{stem}{suffix}", docs / stem / f"index{suffix}"):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"built page /{self.url} has no source page {stem}{suffix} under {docs}")


def built_pages(site: Path) -> list[BuiltPage]:
    """Every content page of both languages (directory URLs), sorted; not 404.html or assets."""
    found = []
    for file in sorted(site.rglob("index.html")):
        rel = file.parent.relative_to(site).as_posix()
        url = "" if rel == "." else rel + "/"
        if url.split("/", 1)[0] in ("assets", "search", "stylesheets"):
            continue
        found.append(BuiltPage("en" if url.startswith("en/") or url == "en/" else "ru", url, file))
    return found
