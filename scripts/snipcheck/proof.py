"""The proof line under a code block: what the suite did to the included file and what it saw.

Pure text: from a manifest entry and the run report's records to one compact HTML line (a
`<details>` whose summary is the line and whose body lists every check with its figures, test
node id and a link to the test source), in the page's language. No mkdocs here; the hook calls it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .checks import CHECKS
from .checks import what as describe
from .figures import number, with_unit
from .manifest import Snippet
from .results import Results

Lang = str  # "ru" | "en"


def t(lang: Lang, ru: str, en: str) -> str:
    return ru if lang == "ru" else en


@dataclass(frozen=True)
class Context:
    results: Results
    lang: Lang
    head: str | None = None  # commit being built
    repo_url: str | None = None  # https://github.com/owner/repo, or None: no links

    @property
    def stale(self) -> bool:
        return bool(self.results.present and self.head and self.results.commit and self.results.commit != self.head)


# ---- per-check phrases: what was seen, from the records of one check -----------------------------


def _v(rec: dict[str, Any], key: str) -> str | None:
    return with_unit(key, rec[key]) if rec.get(key) is not None else None


def _build(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    rec = recs[0]
    if rec.get("dockerfile") and snip.kind == "dockerignore":
        return t(lang, f"фильтрует контекст сборки {rec['dockerfile']}", f"filters the build of {rec['dockerfile']}")
    size = _v(rec, "image_mb")
    out = t(lang, "собран", "built") + (f": {size}" if size else "")
    cache = rec.get("layer_cache_after_code_change") or {}
    if cache.get("dependencies_cached") and cache.get("compile_rerun"):
        out += t(
            lang,
            "; после правки кода зависимости взяты из кэша, перекомпилирован только код",
            "; after a code edit the dependencies came from the cache and only the compile ran again",
        )
    return out


def _run(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    rec = recs[0]
    parts = []
    if rec.get("uid") is not None:
        parts.append(t(lang, f"uid {rec['uid']}", f"uid {rec['uid']}"))
    if rec.get("seconds_to_http_200") is not None:
        parts.append(
            t(lang, f"HTTP 200 через {_v(rec, 'seconds_to_http_200')}", f"HTTP 200 in {_v(rec, 'seconds_to_http_200')}")
        )
    if rec.get("seconds_to_healthy") is not None:
        parts.append(
            t(lang, f"healthy через {_v(rec, 'seconds_to_healthy')}", f"healthy in {_v(rec, 'seconds_to_healthy')}")
        )
    if rec.get("compared_with"):
        parts.append(
            t(
                lang,
                f"без UPX: {_v(rec, 'compared_image_mb')}, HTTP 200 через {_v(rec, 'compared_seconds_to_http_200')}",
                f"without UPX: {_v(rec, 'compared_image_mb')}, HTTP 200 in {_v(rec, 'compared_seconds_to_http_200')}",
            )
        )
    if rec.get("seconds_to_stop") is not None:
        parts.append(
            t(
                lang,
                f"остановлен за {_v(rec, 'seconds_to_stop')} (код {rec.get('exit_code')})",
                f"stopped in {_v(rec, 'seconds_to_stop')} (exit {rec.get('exit_code')})",
            )
        )
    return t(lang, "запущен", "ran") + (": " + ", ".join(parts) if parts else "")


def _scenario(rec: dict[str, Any], lang: Lang) -> str:
    sc = rec.get("scenario", "")
    if sc == "single-stage-size":
        return t(
            lang,
            f"{_v(rec, 'single_stage_mb')} против {_v(rec, 'multi_stage_mb')} у multi-stage ({_v(rec, 'ratio')})",
            f"{_v(rec, 'single_stage_mb')} vs {_v(rec, 'multi_stage_mb')} multi-stage ({_v(rec, 'ratio')})",
        )
    if sc in ("shell-form-sigterm", "no-sigterm-handling"):
        return t(
            lang,
            f"docker stop: {_v(rec, 'seconds_to_stop')}, код {rec.get('exit_code')}",
            f"docker stop: {_v(rec, 'seconds_to_stop')}, exit {rec.get('exit_code')}",
        )
    if sc == "runs-as-root":
        return t(lang, f"процесс от uid {rec.get('uid')}", f"process uid {rec.get('uid')}")
    if sc == "no-dockerignore":
        if "leaked_files" in rec:
            leaked = ", ".join(rec["leaked_files"]) or "—"
            return t(lang, f"без .dockerignore в образе: {leaked}", f"without .dockerignore the image holds {leaked}")
        return t(
            lang,
            f"не попали в образ: {', '.join(rec.get('excluded') or [])}",
            f"kept out of the image: {', '.join(rec.get('excluded') or [])}",
        )
    if sc == "secret-in-history":
        if "in_history" in rec:
            where = [w for w in ("in_history", "in_image_config", "in_layers") if rec.get(w)]
            places = ", ".join(w.removeprefix("in_").replace("_", " ") for w in where)
            return t(lang, f"токен найден: {places}", f"token found in: {places}")
        return t(lang, "секрет не оставил следов в образе", "the secret left no trace in the image")
    if sc in ("cgo-in-scratch", "glibc-in-alpine", "file-logging"):
        return t(lang, f"код выхода {rec.get('exit_code')}", f"exit code {rec.get('exit_code')}")
    if "app_started_before_db_ready_s" in rec:
        return t(
            lang,
            f"приложение стартовало за {_v(rec, 'app_started_before_db_ready_s')} до готовности БД",
            f"app started {_v(rec, 'app_started_before_db_ready_s')} before the database was ready",
        )
    return sc


def _antipattern(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    seen = "; ".join(p for p in (_scenario(r, lang) for r in recs if r.get("result") == "passed") if p)
    if snip.expect == "fails":
        return t(lang, "падает, как сказано в тексте", "fails as the text says") + (f": {seen}" if seen else "")
    return seen or t(lang, "проверено", "checked")


def _compose_up(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    rec = recs[0]
    services = rec.get("services") or []
    probes = len((snip.settings.get("compose") or {}).get("probes") or [])
    text = t(
        lang,
        f"compose up: все сервисы healthy ({len(services)})",
        f"compose up: all services healthy ({len(services)})",
    )
    if rec.get("seconds_to_healthy") is not None:
        text += t(lang, f" за {_v(rec, 'seconds_to_healthy')}", f" in {_v(rec, 'seconds_to_healthy')}")
    if probes:
        text += t(lang, f", проверок поведения: {probes}", f", {probes} behaviour probes passed")
    return text


def _kubeconform(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    versions = recs[0].get("kubernetes_versions") or []
    text = "kubeconform -strict" + (f" (Kubernetes {', '.join(versions)})" if versions else "")
    if snip.kind == "kustomization" and recs[0].get("resources"):
        text = (
            t(
                lang,
                f"вывод kustomize ({recs[0]['resources']} ресурсов): ",
                f"kustomize output ({recs[0]['resources']} resources): ",
            )
            + text
        )
    return text


def _apiserver(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    rec = recs[0]
    version = rec.get("kubernetes_version") or "?"
    if snip.expect == "fails" and rec.get("apiserver_message"):
        return t(
            lang,
            f"kube-apiserver {version} отклоняет, как сказано в тексте",
            f"kube-apiserver {version} rejects it as the text says",
        )
    return t(
        lang,
        f"принят kube-apiserver {version} (dry-run на сервере, строгая проверка полей)",
        f"accepted by kube-apiserver {version} (server-side dry run, strict fields)",
    )


def _node(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    """What the real node showed for this snippet: one clause per test that covered it and passed."""
    m: dict[str, Any] = {}
    for rec in recs:
        if rec.get("result") == "passed":
            m.update(rec)
    parts = []
    if "seconds_to_available" in m:
        n, s = m.get("replicas_ready"), m["seconds_to_available"]
        parts.append(
            t(
                lang,
                f"на настоящем узле: Available за {s} с, Ready {n}",
                f"on a real node: Available in {s} s, {n} Ready",
            )
        )
    if "requests" in m:
        sent, failed = m["requests"], m["failed"]
        parts.append(
            t(
                lang,
                f"обновление под нагрузкой: {sent} запросов, не прошло {failed}",
                f"rolling update under load: {sent} requests, {failed} failed",
            )
        )
        slowest = max((m.get("shutdown_seconds") or {}).values(), default=None)
        if slowest is not None:
            parts[-1] += t(lang, f", старые Pod остановились за ≤ {slowest} с", f", old Pods stopped in ≤ {slowest} s")
    if "failed_without_delay" in m:
        lost, sent = m["failed_without_delay"], m["requests_without_delay"]
        parts.append(
            t(
                lang,
                f"с SHUTDOWN_DELAY=0s то же обновление теряет {lost} из {sent}",
                f"with SHUTDOWN_DELAY=0s the same update loses {lost} of {sent}",
            )
        )
    if "seconds_until_out" in m:
        out, restarts = m["seconds_until_out"], m["restarts_while_not_ready"]
        parts.append(
            t(
                lang,
                f"без Redis Pod выходят из Service за {out} с, перезапусков {restarts}",
                f"without Redis the Pods leave the Service in {out} s, {restarts} restarts",
            )
        )
    if "resolved" in m:
        parts.append(
            t(
                lang,
                "Service по DNS-имени из другого Pod, имена БД и кэша резолвятся",
                "the Service by DNS name from another Pod; the database and cache names resolve",
            )
        )
    if "memory_limit_bytes" in m:
        quota, period = (int(x) for x in str(m["cpu_quota"]).split("/"))
        cpus = t(lang, f"{m['node_cpus']} CPU на узле", f"{m['node_cpus']} CPUs on the node")
        parts.append(
            f"cgroup {m['memory_limit_bytes'] >> 20} MiB, {quota / period:g} CPU; "
            f"GOMEMLIMIT {m['gomemlimit'] >> 20} MiB, GOMAXPROCS {m['gomaxprocs']} ({cpus})"
        )
    if "scaling_active" in m:
        why = t(lang, "нет metrics-server", "no metrics-server")
        parts.append(f"HPA: AbleToScale {m['able_to_scale']}, ScalingActive {m['scaling_active']} ({why})")
    return "; ".join(parts) or "kube-node"


def _hadolint(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    codes = recs[0].get("hadolint_codes") or []
    if snip.expect == "fails" and recs[0].get("hadolint_expected"):
        return t(lang, f"hadolint сообщает {', '.join(codes)}", f"hadolint reports {', '.join(codes)}")
    return "hadolint ✓" + (
        t(lang, f" (ниже порога: {', '.join(codes)})", f" (below threshold: {', '.join(codes)})") if codes else ""
    )


def _tool(name: str) -> Callable[[list[dict], Lang, Snippet], str]:
    return lambda recs, lang, snip: f"{name} ✓"


PHRASES: dict[str, Callable[[list[dict], Lang, Snippet], str]] = {
    "image-build": _build,
    "image-run": _run,
    "image-antipattern": _antipattern,
    "compose-antipattern": _antipattern,
    "compose-up": _compose_up,
    "kubeconform": _kubeconform,
    "kube-apiserver": _apiserver,
    "kube-node": _node,
    "hadolint": _hadolint,
    "yamllint": _tool("yamllint"),
    "compose-config": _tool("docker compose config"),
    "actionlint": _tool("actionlint"),
    "shellcheck": _tool("shellcheck"),
    "gofmt": _tool("gofmt"),
    "go-vet": _tool("go vet"),
    "parse": lambda recs, lang, snip: t(lang, "разобран ✓", "parsed ✓"),
    "go-test": lambda recs, lang, snip: t(
        lang, "go test -race и интеграционные тесты ✓", "go test -race + integration tests ✓"
    ),
}


def phrase(check: str, recs: list[dict], lang: Lang, snip: Snippet) -> str:
    fn = PHRASES.get(check)
    if fn is None:  # a check this module does not know yet: say its name and result, nothing invented
        return check
    try:
        return fn(recs, lang, snip)
    except (KeyError, TypeError, ZeroDivisionError):
        return check


# ---- one check's state -------------------------------------------------------------------------

PASSED, FAILED, SKIPPED, MISSING = "passed", "failed", "skipped", "missing"


def check_state(recs: list[dict]) -> str:
    results = {r.get("result") for r in recs}
    if not recs:
        return MISSING
    if "failed" in results:
        return FAILED
    if results <= {"skipped"}:
        return SKIPPED
    if "passed" in results:
        return PASSED
    return MISSING  # pending or unknown results are not a pass


def snippet_state(snip: Snippet, results: Results) -> str:
    states = [check_state(results.records(snip.path, c)) for c in snip.checks]
    for state in (FAILED, MISSING, SKIPPED):
        if state in states:
            return state
    return PASSED if states else "illustrative"


BADGE = {
    PASSED: ("проверено", "verified"),
    FAILED: ("ПРОВАЛЕНО", "FAILED"),
    SKIPPED: ("проверено частично", "partly verified"),
    MISSING: ("не запускалось в этой сборке", "not run in this build"),
    "illustrative": ("иллюстрация", "illustrative"),
}
MARK = {PASSED: "✓", FAILED: "✗", SKIPPED: "–", MISSING: "○"}


# ---- rendering ---------------------------------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _first_line(text: Any, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def summary(snip: Snippet, ctx: Context) -> str:
    """The visible line (plain text) for one snippet."""
    lang, results = ctx.lang, ctx.results
    if not snip.checks:
        return t(lang, "иллюстрация, не запускается: ", "illustrative, not run: ") + snip.reason
    done, skipped, missing, failed = [], [], [], []
    for check in snip.checks:
        recs = results.records(snip.path, check)
        state = check_state(recs)
        if state == PASSED:
            done.append(phrase(check, recs, lang, snip))
        elif state == FAILED:
            failed.append(check)
        elif state == SKIPPED:
            skipped.append(check)
        else:
            missing.append(check)
    prefix = ""
    if snip.kind == "dockerfile" and not any(c.startswith("image-") for c in snip.checks):
        prefix = t(lang, "только линтер, здесь не собирается: ", "linted only, not built here: ")
    if not results.present:
        declared = ", ".join(snip.checks)
        return prefix + t(lang, f"объявлены проверки: {declared}", f"declared checks: {declared}")
    parts = []
    if failed:
        parts.append(t(lang, f"провалено: {', '.join(failed)}", f"failed: {', '.join(failed)}"))
    parts += done
    if skipped:
        registry = snip.settings.get("needs_registry")
        if registry:
            images = ", ".join(registry) if isinstance(registry, list) else str(registry)
            parts.append(
                t(
                    lang,
                    f"не запускалось здесь: {', '.join(skipped)} (нужен registry: {images})",
                    f"not run here: {', '.join(skipped)} (needs a registry: {images})",
                )
            )
        else:
            parts.append(t(lang, f"пропущено: {', '.join(skipped)}", f"skipped: {', '.join(skipped)}"))
    if missing:
        parts.append(t(lang, f"нет результата: {', '.join(missing)}", f"no result: {', '.join(missing)}"))
    return prefix + " · ".join(parts)


def test_link(check: str, ctx: Context) -> str:
    name = _e(check)
    spec = CHECKS.get(check)
    if not (ctx.repo_url and spec):
        return f"<code>{name}</code>"
    ref = ctx.results.commit or ctx.head or "HEAD"
    url = f"{ctx.repo_url.rstrip('/')}/blob/{ref}/{spec.tests[0]}"
    return f'<a href="{_e(url)}"><code>{name}</code></a>'


_SKIP_KEYS = {
    "check",
    "result",
    "seconds",
    "at",
    "test",
    "tests",
    "error",
    "reason",
    "claim",
    "image_sources",
    "image_bytes",
    "output",
    "compose_errors",
    "kubeconform_errors",
}


def _figures(rec: dict[str, Any]) -> str:
    items = []
    for key, value in rec.items():
        if key in _SKIP_KEYS or value is None or isinstance(value, dict | list) and not value:
            continue
        shown = (
            with_unit(key, value)
            if isinstance(value, int | float)
            else (", ".join(map(str, value)) if isinstance(value, list) else str(value))
        )
        items.append(f"{_e(key)}={_e(shown)}")
    return ", ".join(items)


def details(snip: Snippet, ctx: Context) -> str:
    lang = ctx.lang
    rows = []
    for check in snip.checks:
        recs = ctx.results.records(snip.path, check)
        state = check_state(recs) if ctx.results.present else MISSING
        what = f" — {_e(describe(check, lang))}" if check in CHECKS else ""
        lines = [f'<span class="sc-mark sc-{state}">{MARK[state]}</span> {test_link(check, ctx)}{what}']
        for rec in recs:
            bits = [
                t(
                    lang,
                    {"passed": "пройдено", "failed": "провалено", "skipped": "пропущено"}.get(
                        rec.get("result", ""), str(rec.get("result"))
                    ),
                    str(rec.get("result")),
                )
            ]
            if rec.get("seconds") is not None:
                bits.append(f"{number(rec['seconds'])} s")
            fig = _figures(rec)
            if fig:
                bits.append(fig)
            if rec.get("reason"):
                bits.append(t(lang, "причина: ", "reason: ") + _e(_first_line(rec["reason"])))
            if rec.get("error"):
                bits.append(t(lang, "ошибка: ", "error: ") + _e(_first_line(rec["error"])))
            node = rec.get("test")
            tests = [node] if node else sorted((rec.get("tests") or {}).keys())
            if tests:
                bits.append(
                    " ".join(f"<code>{_e(n)}</code>" for n in tests[:3])
                    + (f" +{len(tests) - 3}" if len(tests) > 3 else "")
                )
            lines.append("; ".join(bits))
        if not recs:
            lines.append(t(lang, "не запускалось в этой сборке", "not run in this build"))
        rows.append("<li>" + "<br>".join(lines) + "</li>")
    notes = []
    note = snip.settings.get("note") or snip.settings.get("hadolint_note")
    for label, text in (
        (t(lang, "утверждение текста", "the text's claim"), snip.claim),
        (t(lang, "почему не запускается", "why it is not run"), snip.reason),
        (t(lang, "примечание", "note"), note),
    ):
        if text:
            notes.append(f'<li>{_e(label)}: <span lang="en">{_e(text)}</span></li>')
    where = (
        f"<li>{t(lang, 'файл', 'file')}: <code>snippets/{_e(snip.path)}</code>, "
        f"{t(lang, 'объявлен в', 'declared in')} <code>{_e(_manifest_where(snip))}</code></li>"
    )
    return "<ul>" + "".join(rows) + "".join(notes) + where + "</ul>"


def _manifest_where(snip: Snippet) -> str:
    from .paths import rel

    return f"{rel(snip.manifest)}:{snip.line}"


def run_note(ctx: Context) -> str:
    """Which run the figures come from (shown in the expanded part)."""
    res, lang = ctx.results, ctx.lang
    if not res.present:
        return ""
    commit = (res.commit or "?")[:12]
    text = t(
        lang,
        f"прогон {res.meta.get('run_id', '?')}, коммит {commit}",
        f"run {res.meta.get('run_id', '?')}, commit {commit}",
    )
    if ctx.stale:
        text += t(lang, f" — НЕ текущий коммит {ctx.head[:12]}", f" — NOT the commit being built, {ctx.head[:12]}")
    return f'<p class="sc-run">{_e(text)}</p>'


def render(snips: list[Snippet], ctx: Context, anchor: str) -> str:
    """The whole block for one code fence (usually one snippet)."""
    states = [
        snippet_state(s, ctx.results) if ctx.results.present else ("illustrative" if not s.checks else MISSING)
        for s in snips
    ]
    overall = next((st for st in (FAILED, MISSING, SKIPPED, PASSED) if st in states), "illustrative")
    badge = t(ctx.lang, *BADGE[overall])
    if ctx.stale and overall not in (MISSING, "illustrative"):
        badge += t(ctx.lang, ", другой коммит", ", other commit")
    expect = ""
    if any(s.expect == "fails" for s in snips):
        expect = '<span class="sc-fails">❌ ' + t(ctx.lang, "пример ошибки", "anti-pattern") + "</span> "
    text = " | ".join(summary(s, ctx) for s in snips)
    body = "".join(details(s, ctx) for s in snips) + run_note(ctx)
    label = t(ctx.lang, "Проверка примера", "How this example is verified")
    return (
        f'<details class="snipcheck-proof sc-{overall}" id="{_e(anchor)}" data-search-exclude>'
        f'<summary title="{_e(label)}"><span class="sc-badge">{_e(badge)}</span> {expect}'
        f'<span class="sc-text">{_e(text)}</span></summary>{body}</details>'
    )
