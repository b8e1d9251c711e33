"""The snippet manifest: every file under snippets/ is declared with what proves it.

One mechanism: a `manifest.yaml` in a directory of snippets/ declares the files below
that directory (paths relative to it). Entry fields:

    kind:       dockerfile | yaml | compose | kubernetes | go | shell | workflow | toml | sql |
                text | json | dockerignore | csharp | env
    expect:     works | fails | illustrative
    claim:      what the text says about it (required for fails)
    checks:     names from snipcheck.checks.CHECKS (at least one unless illustrative)
    reason:     why it is illustrative (required for illustrative)
    ...         check-specific settings (for example build: {context: ..}, hadolint_rules: [...])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .checks import CHECKS, EXPECTATIONS
from .paths import SNIPPETS

MANIFEST_NAME = "manifest.yaml"
KINDS = {
    "dockerfile", "yaml", "compose", "kubernetes", "kustomization", "go", "gomod", "shell",
    "workflow", "toml", "sql", "text", "json", "dockerignore", "csharp", "env",
}


class ManifestError(ValueError):
    """A manifest is malformed; the message names the file and the entry."""


@dataclass
class Snippet:
    path: str                # relative to snippets/, forward slashes
    kind: str
    expect: str
    checks: list[str]
    manifest: Path
    line: int
    claim: str = ""
    reason: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return SNIPPETS / self.path

    def where(self) -> str:
        return f"{self.manifest}:{self.line}"


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    for key_node, _ in node.value:  # an entry's line is the line of its key
        value = mapping.get(loader.construct_object(key_node))
        if isinstance(value, dict):
            value["__line__"] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def manifest_files(root: Path = SNIPPETS) -> list[Path]:
    return sorted(root.rglob(MANIFEST_NAME))


def load(root: Path = SNIPPETS) -> dict[str, Snippet]:
    """All declared snippets, keyed by their path relative to `root`."""
    snippets: dict[str, Snippet] = {}
    for mf in manifest_files(root):
        base = mf.parent.relative_to(root)
        try:
            data = yaml.load(mf.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
        except yaml.YAMLError as exc:
            raise ManifestError(f"{mf}: not valid YAML: {exc}") from exc
        files = data.get("files")
        if not isinstance(files, dict):
            raise ManifestError(f"{mf}: expected a top-level mapping `files:`")
        for name, entry in files.items():
            if name == "__line__":
                continue
            snip = _entry(mf, root, base, name, entry)
            if snip.path in snippets:
                raise ManifestError(f"{snip.where()}: {snip.path} is declared twice "
                                    f"(also at {snippets[snip.path].where()})")
            snippets[snip.path] = snip
    return snippets


def _entry(mf: Path, root: Path, base: Path, name: str, entry: Any) -> Snippet:
    if not isinstance(entry, dict):
        raise ManifestError(f"{mf}: entry {name!r} must be a mapping with kind/expect/checks")
    line = entry.pop("__line__", 0)
    where = f"{mf}:{line} ({name})"
    path = (base / name).as_posix()
    kind = entry.pop("kind", None)
    if kind not in KINDS:
        raise ManifestError(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}")
    expect = entry.pop("expect", "works")
    if expect not in EXPECTATIONS:
        raise ManifestError(f"{where}: expect {expect!r} is not one of {EXPECTATIONS}")
    checks = entry.pop("checks", []) or []
    if not isinstance(checks, list):
        raise ManifestError(f"{where}: checks must be a list of check names")
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ManifestError(f"{where}: unknown check(s) {unknown}; known: {sorted(CHECKS)}")
    claim = str(entry.pop("claim", "") or "")
    reason = str(entry.pop("reason", "") or "")
    if expect == "fails" and not claim:
        raise ManifestError(f"{where}: expect: fails needs `claim:` (how the text says it fails)")
    if expect == "illustrative" and not reason:
        raise ManifestError(f"{where}: expect: illustrative needs `reason:` (why it is not run)")
    return Snippet(path=path, kind=kind, expect=expect, checks=list(checks), manifest=mf,
                   line=line, claim=claim, reason=reason, settings=_without_lines(entry))


def _without_lines(value: Any) -> Any:
    """Settings as written: drop the loader's line bookkeeping from nested mappings."""
    if isinstance(value, dict):
        return {k: _without_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_without_lines(v) for v in value]
    return value


def by_check(check: str, snippets: dict[str, Snippet] | None = None) -> list[Snippet]:
    """Declared snippets that name `check`, sorted by path (for pytest parametrisation)."""
    snippets = load() if snippets is None else snippets
    return sorted((s for s in snippets.values() if check in s.checks), key=lambda s: s.path)
