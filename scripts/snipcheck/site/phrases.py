"""The proof line's words for one check's result, in the page's language: one phrase function per kind of check,
named by the check's declaration (snipcheck.model.checks: Check.phrase).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.checks import CHECKS
from ..model.figures import with_unit
from ..model.manifest import Snippet

Lang = str  # "ru" | "en"


def t(lang: Lang, ru: str, en: str) -> str:
    return ru if lang == "ru" else en


def _v(rec: dict[str, Any], key: str, lang: Lang = "en") -> str | None:
    return with_unit(key, rec[key], lang) if rec.get(key) is not None else None


def _build(recs: list[dict], lang: Lang, snip: Snippet) -> str:
    rec = recs[0]
    if rec.get("dockerfile") and snip.kind == "dockerignore":
        return t(lang, f"фильтрует контекст сборки {rec['dockerfile']}", f"filters the build of {rec['dockerfile']}")
    size = _v(rec, "image_mb", lang)
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
        parts.append(t(lang, "HTTP 200 через ", "HTTP 200 in ") + str(_v(rec, "seconds_to_http_200", lang)))
    if rec.get("seconds_to_healthy") is not None:
        parts.append(t(lang, "healthy через ", "healthy in ") + str(_v(rec, "seconds_to_healthy", lang)))
    if rec.get("compared_with"):
        parts.append(
            t(lang, "без UPX: ", "without UPX: ")
            + f"{_v(rec, 'compared_image_mb', lang)}, "
            + t(lang, "HTTP 200 через ", "HTTP 200 in ")
            + str(_v(rec, "compared_seconds_to_http_200", lang))
        )
    if rec.get("seconds_to_stop") is not None:
        parts.append(
            t(
                lang,
                f"остановлен за {_v(rec, 'seconds_to_stop', lang)} (код {rec.get('exit_code')})",
                f"stopped in {_v(rec, 'seconds_to_stop', lang)} (exit {rec.get('exit_code')})",
            )
        )
    return t(lang, "запущен", "ran") + (": " + ", ".join(parts) if parts else "")


def _scenario(rec: dict[str, Any], lang: Lang) -> str:
    sc = rec.get("scenario", "")
    if sc == "single-stage-size":
        single, multi, ratio = (_v(rec, k, lang) for k in ("single_stage_mb", "multi_stage_mb", "ratio"))
        return t(lang, f"{single} против {multi} у multi-stage ({ratio})", f"{single} vs {multi} multi-stage ({ratio})")
    if sc in ("shell-form-sigterm", "no-sigterm-handling"):
        return t(
            lang,
            f"docker stop: {_v(rec, 'seconds_to_stop', lang)}, код {rec.get('exit_code')}",
            f"docker stop: {_v(rec, 'seconds_to_stop', lang)}, exit {rec.get('exit_code')}",
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
            names = {
                "in_history": ("история образа", "the image history"),
                "in_image_config": ("конфигурация образа", "the image config"),
                "in_layers": ("слои", "the layers"),
            }
            places = ", ".join(t(lang, *names[w]) for w in names if rec.get(w))
            return t(lang, f"токен найден: {places}", f"token found in: {places}")
        return t(lang, "секрет не оставил следов в образе", "the secret left no trace in the image")
    if sc in ("cgo-in-scratch", "glibc-in-alpine", "file-logging"):
        return t(lang, f"код выхода {rec.get('exit_code')}", f"exit code {rec.get('exit_code')}")
    if "app_started_before_db_ready_s" in rec:
        return t(
            lang,
            f"приложение стартовало за {_v(rec, 'app_started_before_db_ready_s', lang)} до готовности БД",
            f"app started {_v(rec, 'app_started_before_db_ready_s', lang)} before the database was ready",
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
        text += t(lang, f" за {_v(rec, 'seconds_to_healthy', lang)}", f" in {_v(rec, 'seconds_to_healthy', lang)}")
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


Phrase = Callable[[list[dict], Lang, Snippet], str]

# phrase name (Check.phrase) -> its function; two more are built in: "tool" ("<label> ✓") and "name"
PHRASES: dict[str, Phrase] = {
    "build": _build,
    "run": _run,
    "antipattern": _antipattern,
    "compose_up": _compose_up,
    "kubeconform": _kubeconform,
    "apiserver": _apiserver,
    "node": _node,
    "hadolint": _hadolint,
    "parse": lambda recs, lang, snip: t(lang, "разобран ✓", "parsed ✓"),
    "go_test": lambda recs, lang, snip: t(
        lang, "go test -race и интеграционные тесты ✓", "go test -race + integration tests ✓"
    ),
}
BUILT_IN = ("tool", "name")


def phrase(check: str, recs: list[dict], lang: Lang, snip: Snippet) -> str:
    """What the check saw, from its records; its name alone for a check or phrase not known here."""
    spec = CHECKS.get(check)
    if spec is None or spec.phrase == "name":
        return check
    if spec.phrase == "tool":
        return f"{spec.label or check} ✓"
    fn = PHRASES.get(spec.phrase)
    if fn is None:  # nothing invented (the inventory tier fails on a phrase name that names no function)
        return check
    try:
        return fn(recs, lang, snip)
    except (KeyError, TypeError, ZeroDivisionError):
        return check
