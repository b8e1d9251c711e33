"""The snippet manifest: every file under snippets/ is declared with what proves it.

One mechanism: a `manifest.yaml` in a directory of snippets/ declares the files below
that directory (paths relative to it). Entry fields:

    kind:       dockerfile | yaml | compose | kubernetes | go | shell | workflow | toml | sql |
                text | json | dockerignore | csharp | env
    expect:     works | fails | illustrative
    claim:      what the text says about it (required for fails)
    checks:     names from snipcheck.model.checks.CHECKS (at least one unless illustrative)
    reason:     why it is illustrative (required for illustrative)
    ...         settings: only keys that one of the entry's checks declares (snipcheck.model.checks), typed;
                an unknown key, a wrong type or an unknown value fails the load with file:line
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import schema
from .checks import CHECKS, EXPECTATIONS, allowed_settings, readers
from .paths import SNIPPETS

MANIFEST_NAME = "manifest.yaml"
KINDS = {
    "dockerfile",
    "yaml",
    "compose",
    "kubernetes",
    "kustomization",
    "go",
    "gomod",
    "shell",
    "workflow",
    "toml",
    "sql",
    "text",
    "json",
    "dockerignore",
    "csharp",
    "env",
}


class ManifestError(ValueError):
    """A manifest is malformed; the message names the file and the entry."""


@dataclass
class Snippet:
    path: str  # relative to snippets/, forward slashes
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

    def settings_for(self, key: str) -> dict[str, Any]:
        """A mapping setting (`run`, `build`, ...) with the defaults its spec declares for what the entry
        leaves out: what the tests use, and what `explain` shows."""
        spec = allowed_settings(self.checks).get(key)
        defaults = spec.defaults if isinstance(spec, schema.Record) else {}
        return {**defaults, **(self.settings.get(key) or {})}

    def effective_settings(self) -> dict[str, Any]:
        """Every setting the entry's checks will use: its own, and the defaults of mapping settings."""
        out = dict(self.settings)
        for key, spec in allowed_settings(self.checks).items():
            if isinstance(spec, schema.Record) and (spec.defaults or key in out):
                out[key] = self.settings_for(key)
        return out


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    lines = {}
    for key_node, _ in node.value:  # an entry's line is the line of its key
        key = loader.construct_object(key_node)
        lines[key] = key_node.start_mark.line + 1
        value = mapping.get(key)
        if isinstance(value, dict):
            value["__line__"] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


def _line_of(entry: dict, path: tuple[str, ...], default: int) -> int:
    """The line of the deepest key of `path` that the loader recorded."""
    line, node = default, entry
    for key in path:
        if not isinstance(node, dict):
            break
        line = node.get("__lines__", {}).get(key, line)
        node = node.get(key)
    return line


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def manifest_files(root: Path = SNIPPETS) -> list[Path]:
    return sorted(root.rglob(MANIFEST_NAME))


def load(root: Path = SNIPPETS) -> dict[str, Snippet]:
    """All declared snippets, keyed by their path relative to `root`."""
    snippets: dict[str, Snippet] = {}
    errors: list[str] = []
    for mf in manifest_files(root):
        base = mf.parent.relative_to(root)
        try:
            data = yaml.load(read_text(mf), Loader=_LineLoader) or {}
        except yaml.YAMLError as exc:
            raise ManifestError(f"{mf}: not valid YAML: {exc}") from exc
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            raise ManifestError(f"{mf}: expected a top-level mapping `files:` (one entry per snippet file)")
        for name, entry in files.items():
            if name in ("__line__", "__lines__"):
                continue
            if not isinstance(name, str) or not _inside(name):
                errors.append(f"{mf}: entry {name!r} must be a file name below {mf.parent} (no `..`, not absolute)")
                continue
            try:
                snip = _entry(mf, root, base, name, entry)
            except ManifestError as exc:  # report every bad entry at once
                errors.append(str(exc))
                continue
            if snip.path in snippets:
                errors.append(f"{snip.where()}: {snip.path} is declared twice (also at {snippets[snip.path].where()})")
            snippets[snip.path] = snip
    if errors:
        raise ManifestError("\n".join(errors))
    return snippets


MAX_BYTES = 1 << 20  # a snippet is copied into build contexts and pages: a bigger file is a mistake
# settings that name files of the snippet tree (`compose.files` too; other `files:` name paths in images)
PATH_SETTINGS = ("context", "compare_with", "harness", "dockerfile", "planted", "compose.files")


def read_text(path: Path) -> str:
    """A manifest or snippet as text: ManifestError naming the file when it is not UTF-8 or too big."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ManifestError(f"{path}: {path.stat().st_size} bytes, over {MAX_BYTES}: a snippet is shown on a page")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 (byte {exc.start}): save it as UTF-8") from None


def _inside(rel: str) -> bool:
    """A relative path that stays below its base: not absolute, no `..` segment."""
    return bool(rel) and not rel.startswith("/") and ".." not in Path(rel).parts


def _outside_paths(settings: Any, key: str = "") -> list[str]:
    """`key: value` of path settings (PATH_SETTINGS, at any depth) that leave the snippet tree."""
    if isinstance(settings, dict):
        return [bad for k, v in settings.items() for bad in _outside_paths(v, f"{key.split('.')[-1]}.{k}")]
    if isinstance(settings, list):
        return [bad for v in settings for bad in _outside_paths(v, key)]
    named = key.split(".", 1)[-1] in PATH_SETTINGS or key.strip(".") in PATH_SETTINGS
    if named and isinstance(settings, str) and not _inside(settings):
        return [f"{key.strip('.')}: {settings}"]
    return []


def _entry(mf: Path, root: Path, base: Path, name: str, entry: Any) -> Snippet:
    if not isinstance(entry, dict):
        raise ManifestError(f"{mf}: entry {name!r} must be a mapping with kind/expect/checks")
    line = entry.pop("__line__", 0)
    raw = dict(entry)
    entry.pop("__lines__", None)
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
    settings = _without_lines(entry)
    problems = []
    allowed = allowed_settings(checks)
    for (key, *_), _msg in schema.unknown_keys(settings, allowed):
        who = readers(key)
        hint = (
            f"it is read by {', '.join(who)}, which this entry does not declare"
            if who
            else "no check reads it: fix the spelling or remove it"
        )
        problems.append(((key,), f"unknown setting `{key}` ({hint}); allowed here: {', '.join(sorted(allowed))}"))
    for key, spec in allowed.items():
        if key in settings:
            problems += [(p, f"`{'.'.join(p)}`: {msg}") for p, msg in spec.check(settings[key], (key,))]
    if problems:
        raise ManifestError("\n".join(f"{mf}:{_line_of(raw, p, line)} ({name}): {msg}" for p, msg in problems))
    if outside := _outside_paths(settings):
        raise ManifestError(f"{where}: paths must stay below snippets/ (no `..`, not absolute): {'; '.join(outside)}")
    return Snippet(
        path=path,
        kind=kind,
        expect=expect,
        checks=list(checks),
        manifest=mf,
        line=line,
        claim=claim,
        reason=reason,
        settings=settings,
    )


def _without_lines(value: Any) -> Any:
    """Settings as written: drop the loader's line bookkeeping from nested mappings."""
    if isinstance(value, dict):
        return {k: _without_lines(v) for k, v in value.items() if k not in ("__line__", "__lines__")}
    if isinstance(value, list):
        return [_without_lines(v) for v in value]
    return value


def by_check(check: str, snippets: dict[str, Snippet] | None = None) -> list[Snippet]:
    """Declared snippets that name `check`, sorted by path (for pytest parametrisation)."""
    snippets = load() if snippets is None else snippets
    return sorted((s for s in snippets.values() if check in s.checks), key=lambda s: s.path)
