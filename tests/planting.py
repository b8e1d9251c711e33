"""Build contexts for the no-dockerignore scenario: a copy of a Dockerfile's context without any
.dockerignore, with the files a careless project carries (a .env, a real .git) planted in it. The images tier
builds such a ❌ Dockerfile from this context (tests/images/conftest.py: Builder) and its scenario reads what
reached the image (tests/images/test_antipatterns.py: no_dockerignore).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import SNIPPETS


def planted_files(snippet: Snippet) -> list[str]:
    """The files the no-dockerignore scenario of `snippet` plants in its context."""
    return list(snippet.settings.get("planted") or [".env", ".git/config"])


def planted_context(dockerfile: Snippet, dest: Path, planted: list[str]) -> Path:
    """A copy of `dockerfile`'s build context at `dest`, without any .dockerignore, with `planted` in it."""
    src = SNIPPETS / ((dockerfile.settings.get("build") or {}).get("context") or str(Path(dockerfile.path).parent))
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".dockerignore"))
    plant(dest, planted)
    return dest


def plant(ctx: Path, planted: list[str]) -> None:
    """Files a careless context would carry: secrets, and a real git repository for `.git/...`.

    The same bytes every run (fixed text, fixed commit dates, no index with its stat data): BuildKit's
    cache then serves an unchanged scenario from an earlier run, and the image it serves is the one these
    inputs build; a change to the Dockerfile or the context still rebuilds it.
    """
    for rel in planted:
        if rel.startswith(".git/"):
            continue
        target = ctx / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("planted by the test suite\n")
    if any(rel.startswith(".git/") for rel in planted):
        # a real repository: Go's VCS stamping reads it during `go build`
        git = ["git", "-C", str(ctx), "-c", "user.email=suite@example.com", "-c", "user.name=suite"]
        fixed = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "planted"]):
            subprocess.run([*git, *args], check=True, env=fixed)
        (ctx / ".git" / "index").unlink()  # holds inode numbers and times: different bytes on every run
