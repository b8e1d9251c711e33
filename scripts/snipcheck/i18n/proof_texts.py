"""The words of the proof lines that come from data, in the page's language: the manifests' claims, reasons
and notes (English in snippets/*/manifest.yaml, Russian in translations/manifest.ru.yaml) and the names of
the measured figures (translations/figures.yaml, both languages).

`check_texts` and `check_labels` say what is missing or stale; tests/inventory/test_proof_language.py runs
them, and on a built site reads the Russian proof lines for English words.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from ..model.manifest import Snippet
from ..model.paths import ROOT, rel

MANIFEST_TEXTS = ROOT / "translations" / "manifest.ru.yaml"
FIGURE_LABELS = ROOT / "translations" / "figures.yaml"
TEXT_FIELDS = ("claim", "reason", "note", "hadolint_note")


def _read(path: Path, key: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{rel(path)}: not valid YAML: {exc}") from exc
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{rel(path)}: `{key}:` must be a mapping")
    return value


@functools.cache
def _texts(path: Path = MANIFEST_TEXTS) -> dict[str, str]:
    return {" ".join(str(k).split()): str(v) for k, v in _read(path, "texts").items()}


@functools.cache
def _labels(path: Path = FIGURE_LABELS) -> dict[str, dict[str, str]]:
    return {str(k): dict(v) for k, v in _read(path, "figures").items()}


def text(english: str, lang: str) -> str:
    """A manifest text in the page's language (the English itself on English pages, or when no Russian is
    written yet — the language test then fails)."""
    if lang != "ru" or not english:
        return english
    return _texts().get(" ".join(english.split()), english)


def label(key: str, lang: str) -> str:
    """The name of a measured figure; an unknown key shows as written (the language test fails on it)."""
    names = _labels().get(key)
    if names and names.get(lang):
        return names[lang]
    for prefix in ("elf_machine_", "traces_"):  # keys with a platform or a stage in their name
        if key.startswith(prefix) and prefix.rstrip("_") in _labels():
            return f"{_labels()[prefix.rstrip('_')][lang]} ({key[len(prefix) :]})"
    return key


def manifest_texts(declared: dict[str, Snippet]) -> dict[str, list[str]]:
    """English text -> where it is declared."""
    found: dict[str, list[str]] = {}
    for path, snip in sorted(declared.items()):
        values = {"claim": snip.claim, "reason": snip.reason}
        values |= {f: snip.settings.get(f) for f in ("note", "hadolint_note")}
        for field, value in values.items():
            if value:
                found.setdefault(" ".join(str(value).split()), []).append(f"{rel(snip.manifest)} ({path}: {field})")
    return found


def check_texts(declared: dict[str, Snippet], path: Path = MANIFEST_TEXTS) -> list[str]:
    texts = _read(path, "texts")
    have = {" ".join(str(k).split()): v for k, v in texts.items()}
    wanted = manifest_texts(declared)
    problems = [
        f"{where[0]}: {english[:70]!r}… has no Russian text — add it under `texts:` in {rel(path)}"
        for english, where in wanted.items()
        if not str(have.get(english) or "").strip()
    ]
    problems += [
        f"{rel(path)}: {english[:70]!r}… matches no claim, reason or note of a manifest — remove it"
        for english in have
        if english not in wanted
    ]
    return problems


def check_labels(keys: set[str], path: Path = FIGURE_LABELS) -> list[str]:
    labels = _read(path, "figures")
    problems = []
    for key in sorted(keys):
        names = labels.get(key)
        if not isinstance(names, dict) or not names.get("ru") or not names.get("en"):
            problems.append(
                f"figure {key!r} has no name in both languages — add `{key}: {{ru: …, en: …}}` to {rel(path)}"
            )
    return problems
