"""The generated parts of the page "How these examples are verified" (docs/verification*.md).

`{{ verification run|tools|tiers|images|snippets }}` placeholders on that page become markdown
from the run report and the manifests: which run, which tool versions, which base images came
from where, and every included snippet × check × result × key figures, grouped by page, each
linked to its code block's proof line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..i18n import proof_texts
from ..model.checks import TIERS
from ..model.figures import FIGURES, unit_in, value_of, with_unit
from ..model.manifest import Snippet
from ..model.pages import all_pages as pages
from ..model.pages import page_key, page_lang
from ..run.results import Results
from . import pagemarks
from .phrases import t
from .proof import MARK, MISSING, check_state

SECTIONS = ("run", "tools", "tiers", "images", "snippets")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def no_report(lang: str) -> str:
    return t(
        lang,
        "_Отчёта о прогоне в этой сборке нет: таблицы появятся после `bash scripts/test.sh`._",
        "_This build has no run report: the tables appear after `bash scripts/test.sh`._",
    )


def run(results: Results, lang: str, head: str | None) -> str:
    if not results.present:
        return no_report(lang)
    m = results.meta
    started = m.get("started")
    when = dt.datetime.fromtimestamp(started, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if started else "?"
    commit = m.get("commit") or "?"
    rows = [
        (t(lang, "дата прогона", "run date"), when),
        (
            t(lang, "коммит", "commit"),
            f"`{commit[:12]}`"
            + (
                t(lang, " (не совпадает с собираемым `", " (not the commit being built, `") + (head or "?")[:12] + "`)"
                if head and commit != head
                else ""
            ),
        ),
        (t(lang, "идентификатор прогона", "run id"), f"`{m.get('run_id', '?')}`"),
        (t(lang, "время всего прогона", "wall time"), f"{m.get('wall_seconds', '?')} {unit_in('s', lang)}"),
        *_setup_rows(m, lang),
        (t(lang, "CI", "CI"), t(lang, "да", "yes") if m.get("ci") else t(lang, "нет", "no")),
        (t(lang, "источник базовых образов", "base image mode"), f"`{m.get('image_source_mode', '?')}`"),
    ]
    head_row = t(lang, "| что | значение |", "| what | value |")
    return "\n".join([head_row, "| --- | --- |", *(f"| {a} | {_cell(b)} |" for a, b in rows)])


RUN_KINDS = {
    "cold": ("холодный: все кэши были пусты", "cold: every cache was empty"),
    "warm": ("тёплый: ни один кэш не был пуст", "warm: no cache was empty"),
    "partial": ("частично тёплый: часть кэшей была пуста", "partial: some caches were empty"),
}


def _setup_rows(m: dict, lang: str) -> list[tuple[str, str]]:
    """The setup's time, the whole run's with it, cold or warm, and the lowest free disk — the figures a
    README would otherwise carry by hand (the report holds them: tests/recording.py)."""
    rows = []
    if m.get("setup_seconds"):
        rows.append((t(lang, "подготовка (setup)", "setup"), f"{m['setup_seconds']} {unit_in('s', lang)}"))
    if m.get("wall_seconds_with_setup") is not None:
        total = f"{m['wall_seconds_with_setup']} {unit_in('s', lang)}"
        rows.append((t(lang, "всего с подготовкой", "wall time with setup"), total))
    kind = (m.get("caches_at_start") or {}).get("run_kind")
    if kind:
        ru, en = RUN_KINDS.get(kind, (kind, kind))
        rows.append((t(lang, "кэши на старте", "caches at the start"), t(lang, ru, en)))
    disk = m.get("disk") or {}
    if disk.get("lowest_free_gb") is not None:
        after = disk.get("lowest_after") or "?"
        rows.append(
            (
                t(lang, "меньше всего свободного места", "lowest free disk"),
                f"{disk['lowest_free_gb']} {unit_in('GB', lang)} (`{disk.get('path', '?')}`; "
                + t(lang, "после ", "after ")
                + f"`{after}`)",
            )
        )
    return rows


def tools(results: Results, lang: str) -> str:
    if not results.present:
        return no_report(lang)
    versions = results.meta.get("tools") or {}
    if not versions and not results.snippets:
        return t(
            lang,
            "_Отчёт не содержит версий инструментов (старый формат отчёта)._",
            "_The report records no tool versions (an older report format)._",
        )
    lines = [t(lang, "| инструмент | версия |", "| tool | version |"), "| --- | --- |"]
    missing = t(lang, "не найден при прогоне", "not found during the run")
    for name, version in versions.items():
        name = name.replace(" (the node's CRI)", " (CRI)")  # reports before the label was made language-neutral
        shown = ", ".join(version) if isinstance(version, list) else version
        lines.append(f"| {_cell(name)} | {_cell(f'`{shown}`' if shown else missing)} |")
    k8s = sorted({v for recs in results.snippets.values() for r in recs for v in r.get("kubernetes_versions") or []})
    if k8s:
        lines.append(
            f"| {t(lang, 'Kubernetes (схемы kubeconform)', 'Kubernetes (kubeconform schemas)')} | {', '.join(k8s)} |"
        )
    servers = sorted(
        {
            str(r["kubernetes_version"])
            for recs in results.snippets.values()
            for r in recs
            if r.get("check") == "kube-apiserver" and r.get("kubernetes_version")
        }
    )
    if servers:
        label = t(
            lang,
            "Kubernetes API-сервер (etcd на 127.0.0.1, без узла)",
            "Kubernetes API server (etcd on 127.0.0.1, no node)",
        )
        lines.append(f"| {label} | {', '.join(servers)} |")
    return "\n".join(lines)


def tiers(results: Results, lang: str) -> str:
    if not results.present:
        return no_report(lang)
    data = results.meta.get("tiers") or {}
    lines = [
        t(
            lang,
            "| уровень | секунд | пройдено | провалено | пропущено |",
            "| tier | seconds | passed | failed | skipped |",
        ),
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for tier in [*TIERS, *(k for k in data if k not in TIERS)]:
        if tier in data:
            d = data[tier]
            lines.append(
                f"| `{tier}` | {d.get('seconds', '?')} | {d.get('passed', 0)} | "
                f"{d.get('failed', 0) + d.get('error', 0)} | {d.get('skipped', 0)} |"
            )
    return "\n".join(lines)


def _source_kind(desc: str, lang: str) -> str:
    if desc.startswith("registry"):
        return t(lang, "upstream (registry)", "upstream (registry)")
    if desc.startswith("local rebuild"):
        return t(lang, "точная локальная пересборка", "faithful local rebuild")
    if desc.startswith("stand-in"):
        return t(lang, "замена (stand-in)", "stand-in")
    return t(lang, "недоступен", "unavailable")


SOURCE = re.compile(r"^(?P<kind>[a-z -]+?) \(recipe (?P<recipe>[0-9a-f]+), (?P<tag>[^)]+)\)(?::\s*(?P<what>.*))?$")


def _source_details(desc: str, lang: str) -> str:
    """The report's English description of an image source, in the page's language: the recipe and the
    tag the kit built; what a stand-in is, is told on the image-kit page (linked on Russian pages)."""
    if lang != "ru":
        return _cell(desc)
    if desc.startswith("registry"):
        return f"`{desc.removeprefix('registry').strip(' ():')}`"
    m = SOURCE.match(desc)
    if not m:
        return "подробности — на странице [«Базовые образы без registry»](image-kit.md)"
    out = f"рецепт {m['recipe']}, `{m['tag']}`"
    if m["what"]:
        out += "; что это за замена — на странице [«Базовые образы без registry»](image-kit.md)"
    return out


def images(results: Results, lang: str) -> str:
    if not results.present:
        return no_report(lang)
    sources = results.image_sources()
    if not sources:
        return t(
            lang,
            "_В отчёте нет базовых образов (уровни `images` и `compose` не запускались)._",
            "_The report names no base images (the images/compose tiers did not run)._",
        )
    lines = [t(lang, "| образ | откуда | подробности |", "| image | source | details |"), "| --- | --- | --- |"]
    for ref, desc in sources.items():
        lines.append(f"| `{ref}` | {_source_kind(desc, lang)} | {_source_details(desc, lang)} |")
    return "\n".join(lines)


KEY_FIGURES = (
    "image_mb",
    "single_stage_mb",
    "multi_stage_mb",
    "ratio",
    "uid",
    "seconds_to_http_200",
    "seconds_to_healthy",
    "seconds_to_stop",
    "exit_code",
)


def _figures(recs: list[dict], lang: str) -> str:
    shown = []
    for rec in recs:
        for key in KEY_FIGURES:
            v = value_of(rec, key)
            if v is not None and key in FIGURES:
                shown.append(f"{proof_texts.label(key, lang)} {with_unit(key, v, lang)}")
    return ", ".join(dict.fromkeys(shown))


def _title(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return re.sub(r"\s*\{[^}]*\}\s*$", "", line[2:]).strip()
    return page.name


def snippets_table(docs: Path, snippets: dict[str, Snippet], results: Results, lang: str) -> str:
    """Every included snippet × check, grouped by page of this language, linked to its proof line."""
    out = []
    result_word = {
        "passed": t(lang, "пройдено", "passed"),
        "failed": t(lang, "ПРОВАЛЕНО", "FAILED"),
        "skipped": t(lang, "пропущено", "skipped"),
        MISSING: t(lang, "не запускалось", "not run"),
    }
    for page in pages(docs):
        if page_lang(page) != lang:
            continue
        key = page_key(page, docs)
        marks = pagemarks.anchors(page)
        if not marks:
            continue
        out.append(f"### [{_title(page)}]({key})\n")
        out.append(t(lang, "| пример | проверка | результат | цифры |", "| example | check | result | figures |"))
        out.append("| --- | --- | --- | --- |")
        for anchor, incs in marks:
            for inc in incs:
                snip = snippets.get(inc.path)
                label = f"`{inc.path}{':' + inc.section if inc.section else ''}`"
                link = f"[{label}]({key}#{anchor})"
                if snip is None:
                    out.append(f"| {link} | — | {t(lang, 'не объявлен в манифесте', 'not declared')} | |")
                    continue
                if not snip.checks:
                    out.append(
                        f"| {link} | — | {t(lang, 'иллюстрация', 'illustrative')} | "
                        f"{_cell(proof_texts.text(snip.reason, lang))} |"
                    )
                for check in snip.checks:
                    recs = results.records(snip.path, check)
                    state = check_state(recs) if results.present else MISSING
                    figures = _cell(_figures(recs, lang))
                    out.append(f"| {link} | `{check}` | {MARK[state]} {result_word[state]} | {figures} |")
        out.append("")
    return "\n".join(out)


def render(
    section: str, *, docs: Path, snippets: dict[str, Snippet], results: Results, lang: str, head: str | None
) -> str:
    if section == "run":
        return run(results, lang, head)
    if section == "tools":
        return tools(results, lang)
    if section == "tiers":
        return tiers(results, lang)
    if section == "images":
        return images(results, lang)
    if section == "snippets":
        return snippets_table(docs, snippets, results, lang)
    raise KeyError(section)
