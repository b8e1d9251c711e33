"""Changed-only runs: which snippets (and test modules) a diff can affect, and why.

    python -m snipcheck changes [BASE] [--write build/selection.json]   (scripts/test.sh --changed)

BASE defaults to the merge base with `main` (or `origin/main`); the diff includes uncommitted and
untracked files. The rules:
- the suite's machinery (scripts/snipcheck, the image kit, tests/conftest.py and its two plugins
  tests/scheduling.py and tests/recording.py, tests/support.py, the
  requirements, pyproject.toml, setup scripts) -> everything;
- a tier's helper module (tests/<tier>/conftest.py or any non-test module there) -> that whole tier;
- a test module -> that module;
- a snippet -> its own checks, and those of everything that uses it: Dockerfiles whose build context
  holds it, compose projects that build, mount or read it, kustomizations that list it, entries
  that name it (compare_with, harness, dockerfile), every entry of a changed manifest.yaml;
- what one tier alone uses (TIER_PATHS): the Kubernetes module pins -> the cluster tier; the site's
  assets, translations, hooks, mkdocs.yml, the pinned mermaid -> the site tier (the browser tour);
- a page (docs/**.md) -> the browser tour of that page and its twin in the other language (`pages`;
  TOUR_MODULE only, and only those pages: a page is built from its own Markdown and the snippets it
  includes, and the whole site is read by the static tier's link, index and proof-line checks anyway);
  when anything else selects the site tier or the tour's module, the tour visits every page;
- what only the always-run tiers read (ALWAYS_ONLY: the README, the original, lint configurations), and
  every Markdown file outside docs/ and snippets/ (the guides, the maintainers' notes beside the code,
  dev/) -> only those.
Every tracked file falls under one of these rules (`classify`; tests/inventory/machinery/test_changes.py checks
it), so a new kind of file cannot slip through a pull request unchecked.
The inventory and static tiers always run whole: they are cheap and read everything.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..model import manifest
from ..model.paths import ROOT, SNIPPETS

ALWAYS_TIERS = ("inventory", "static")
EVERYTHING = (
    "scripts/snipcheck/",
    "scripts/imagekit/",
    "scripts/setup.sh",
    "scripts/test.sh",
    "scripts/install-",
    "tests/conftest.py",
    "tests/scheduling.py",
    "tests/recording.py",
    "tests/support.py",
    "requirements",
    "pyproject.toml",
    ".ci/run",
    "scripts/lib/",
    ".github/workflows/",
)
# What one tier alone reads: a change runs that tier whole (beside the always-run tiers).
TIER_PATHS = {
    "scripts/kube/": "tests/cluster",
    "docs/": "tests/site",
    "translations/": "tests/site",
    "scripts/hooks/": "tests/site",
    "mkdocs.yml": "tests/site",
    "scripts/fetch-mermaid.sh": "tests/site",
}
# What only the always-run tiers read (or nothing the suite runs: the fresh-machine measurement, the
# preview server).
ALWAYS_ONLY = (
    "README.md",
    "CONTRIBUTING.md",
    "original/",
    ".gitignore",
    ".hadolint.yaml",
    ".yamllint",
    "scripts/serve.sh",
    "scripts/fresh-machine/",
    "scripts/github-runner/",
)


def classify(path: str) -> str | None:
    """Which rule of the module's docstring a changed file falls under: "everything", "tier",
    "snippet", "test", "always" — None for a file no rule covers (a new kind: add it to a rule)."""
    if path.endswith(".md") and not path.startswith(("docs/", "snippets/")):
        return "always"  # the guides and the maintainers' notes beside the code: read, never run
    if path.startswith(EVERYTHING):
        return "everything"
    if path.startswith(tuple(TIER_PATHS)):
        return "tier"
    if path.startswith("snippets/"):
        return "snippet"
    if path.startswith("tests/"):
        return "test"
    if path.startswith(ALWAYS_ONLY):
        return "always"
    return None


TOUR_MODULE = "tests/site/test_browser.py"


def is_page(path: str) -> bool:
    return path.startswith("docs/") and path.endswith(".md")


@dataclass
class Selection:
    base: str
    changed: list[str]
    everything: str | None = None  # why everything runs, if it does
    snippets: dict[str, list[str]] = field(default_factory=dict)  # snippet -> why it is selected
    modules: dict[str, str] = field(default_factory=dict)  # test module or tier dir -> why
    pages: list[str] = field(default_factory=list)  # the only pages the tour visits (docs/...md); [] = all

    def tour_pages(self) -> list[str]:
        """The pages the browser tour is narrowed to, or [] when it visits every page (anything but a
        page change selected the site tier or the tour's module)."""
        whole = any(
            m in ("tests/site", TOUR_MODULE) and not why.startswith("pages changed") for m, why in self.modules.items()
        )
        return [] if whole else self.pages

    def add(self, snippet: str, why: str) -> bool:
        reasons = self.snippets.setdefault(snippet, [])
        if why in reasons:
            return False
        reasons.append(why)
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "changed": self.changed,
            "everything": self.everything,
            "always_tiers": list(ALWAYS_TIERS),
            "snippets": self.snippets,
            "modules": self.modules,
            "tour_pages": self.tour_pages(),
        }


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def default_base() -> str:
    for ref in ("main", "origin/main"):
        try:
            return _git("merge-base", ref, "HEAD").strip()
        except subprocess.CalledProcessError:
            continue
    raise SystemExit("no `main` branch to compare with: give a BASE (a commit or branch)")


def changed_files(base: str) -> list[str]:
    tracked = _git("diff", "--name-only", base).split()
    untracked = _git("ls-files", "--others", "--exclude-standard").split()
    return sorted(set(tracked) | set(untracked))


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
        return True
    except ValueError:
        return False


def _pattern(p: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: `*` and `?` stay in one path segment, `**` crosses them."""
    out, i = "", 0
    while i < len(p):
        if p.startswith("**", i):
            out, i = out + ".*", i + 2
        elif p[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif p[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(p[i]), i + 1
    return re.compile(out)


def dockerignored(context: Path, path: Path) -> bool:
    """Does the context's .dockerignore keep `path` out of the build (last matching rule wins)?"""
    ignore = context / ".dockerignore"
    if not ignore.is_file():
        return False
    rel = path.resolve().relative_to(context.resolve()).as_posix()
    prefixes = [rel] + ["/".join(rel.split("/")[:n]) for n in range(1, rel.count("/") + 1)]
    excluded = False
    for line in ignore.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rx = _pattern(line.lstrip("!").strip("/"))
        if any(rx.fullmatch(p) for p in prefixes):
            excluded = not negate
    return excluded


def _uses(entry: manifest.Snippet, changed: Path, edited: bool) -> str | None:
    """Why `entry` is affected by `changed` (None: it is not). `edited`: the file itself changed — only
    then do build contexts, mounts and listed resources count; an entry that is merely affected
    passes on through the names other entries give it (compare_with, harness, compose file sets)."""
    settings = entry.settings
    if entry.kind == "dockerfile" and edited:
        context = SNIPPETS / ((settings.get("build") or {}).get("context") or Path(entry.path).parent.as_posix())
        if _inside(changed, context) and not dockerignored(context, changed):
            return f"its build context snippets/{context.relative_to(SNIPPETS).as_posix()} holds it"
    for key in ("compare_with", "harness", "dockerfile"):
        if settings.get(key) and (SNIPPETS / settings[key]).resolve() == changed.resolve():
            return f"its `{key}` names it"
    if entry.kind in ("compose", "kustomization"):
        files = (settings.get("compose") or {}).get("files") or []
        if any((entry.file.parent / f).resolve() == changed.resolve() for f in files):
            return "its compose file set includes it"
        for ref, is_build_context in _referenced_paths(entry) if edited else []:
            if _inside(changed, ref) and not (is_build_context and dockerignored(ref, changed)):
                return f"it builds, mounts or lists {ref.relative_to(SNIPPETS.resolve()).as_posix()}"
    return None


def _referenced_paths(entry: manifest.Snippet) -> list[tuple[Path, bool]]:
    """Paths a compose file or kustomization points at: (path, is it a build context?)."""
    try:
        docs = [d for d in yaml.safe_load_all(entry.file.read_text(encoding="utf-8")) if isinstance(d, dict)]
    except yaml.YAMLError:
        return []
    base, refs = entry.file.parent, []
    for doc in docs:
        refs += [(base / str(res), False) for res in doc.get("resources") or []]
        for svc in (doc.get("services") or {}).values():
            if not isinstance(svc, dict):
                continue
            build = svc.get("build")
            if build:
                refs.append((base / (build if isinstance(build, str) else build.get("context", ".")), True))
            env_files = svc.get("env_file") or []
            refs += [
                (base / str(e if isinstance(e, str) else e.get("path", "")), False)
                for e in (env_files if isinstance(env_files, list) else [env_files])
            ]
            for vol in svc.get("volumes") or []:
                src = vol.split(":", 1)[0] if isinstance(vol, str) else (vol or {}).get("source", "")
                if str(src).startswith((".", "/")):
                    refs.append((base / str(src), False))
    return [(r.resolve(), b) for r, b in refs if _inside(r, SNIPPETS)]


def select(base: str, changed: list[str], snippets: dict[str, manifest.Snippet] | None = None) -> Selection:
    sel = Selection(base, changed)
    snippets = manifest.load() if snippets is None else snippets
    for f in changed:
        if classify(f) == "everything":
            sel.everything = f"{f} is part of the suite's machinery"
            return sel
    queue: list[tuple[Path, bool]] = []  # (file, was it edited?)
    for f in changed:
        parts = Path(f).parts
        if classify(f) == "always":
            continue
        if is_page(f):
            sel.pages.append(f)
            sel.modules.setdefault(TOUR_MODULE, "pages changed: the tour visits them and their twins")
        elif tier := next((t for prefix, t in TIER_PATHS.items() if f.startswith(prefix)), None):
            sel.modules[tier] = f"{f} changed (only that tier reads it)"
        elif parts[:1] == ("tests",) and len(parts) >= 3:
            tier_dir = "/".join(parts[:2])
            if Path(f).name.startswith("test_"):
                sel.modules[f] = "the test module changed"
            else:
                sel.modules[tier_dir] = f"its helper {f} changed"
        elif parts[:1] == ("snippets",):
            rel = Path(*parts[1:]).as_posix()
            if Path(f).name == manifest.MANIFEST_NAME:
                directory = Path(*parts[1:-1]).as_posix()
                for path in snippets:
                    if not directory or path.startswith(directory + "/"):
                        sel.add(path, f"its manifest {f} changed")
                        queue.append((SNIPPETS / path, True))
                continue
            if rel in snippets:
                sel.add(rel, "it changed")
            queue.append((SNIPPETS / rel, True))
    seen: set[tuple[Path, bool]] = set()
    while queue:  # what uses a selected file is selected too, transitively
        changed_path, edited = queue.pop()
        if (changed_path, edited) in seen:
            continue
        seen.add((changed_path, edited))
        label = changed_path.relative_to(SNIPPETS).as_posix()
        for path, entry in snippets.items():
            why = _uses(entry, changed_path, edited)
            if why and path != label and sel.add(path, f"{why} (snippets/{label})"):
                queue.append((entry.file, False))
    return sel


def write(sel: Selection, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(sel.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def main(base: str | None, dest: Path) -> int:
    # a branch is compared from where it left BASE (what a pull request changes), not with BASE's tip
    base = _git("merge-base", base, "HEAD").strip() if base else default_base()
    sel = select(base, changed_files(base))
    write(sel, dest)
    print(f"[changed] base {base[:12]}: {len(sel.changed)} changed file(s)")
    if sel.everything:
        print(f"[changed] everything runs: {sel.everything}")
    else:
        print(f"[changed] always: {', '.join(ALWAYS_TIERS)} tiers")
        for module, why in sorted(sel.modules.items()):
            print(f"[changed] {module}: {why}")
        for path, reasons in sorted(sel.snippets.items()):
            print(f"[changed] snippets/{path}: {'; '.join(reasons)}")
        if sel.tour_pages():
            print(f"[changed] the browser tour visits only: {', '.join(sel.tour_pages())} (and their twins)")
    print(f"[changed] selection written to {dest}")
    return 0
