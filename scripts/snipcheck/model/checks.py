"""The vocabulary of checks a manifest may name: tier, implementing tests, and the settings each reads.

A check is implemented by the test modules listed in `tests`; each test marked
`@pytest.mark.check(NAME)` records a result for every snippet it covers (see tests/recording.py).
At the end of a run every declared (snippet, check) pair whose tier ran must have a result, so a
check cannot be declared and silently never run.

`settings` declares every manifest key the check reads, with its type (snipcheck.model.schema). The
manifest loader accepts a key on an entry only if one of the entry's checks (or COMMON) declares
it, and rejects wrong types and unknown values (scenario names included) with file:line — in the
inventory tier, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .schema import BOOL, INT, NUM, STR, STRS, ListOf, MapOf, Record, Spec, one_of

TIERS = ("inventory", "static", "service", "kit", "images", "compose", "site", "cluster")
EXPECTATIONS = ("works", "fails", "illustrative")


@dataclass(frozen=True)
class Check:
    tier: str
    tests: tuple[str, ...]  # test modules implementing it, relative to the repository root
    what: dict[str, str]  # one line per language ("en", "ru"): the proof line's list of checks shows it
    settings: dict[str, Spec] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()  # for anti-pattern checks: the scenario names the tests implement
    implicit: bool = False  # runs on every snippet it concerns without being declared; its keys fit any entry
    # The proof line's words for a result: a phrase function of snipcheck.site.phrases, by name ("tool":
    # "<label> ✓"; "name": the check's name alone).
    phrase: str = "tool"
    label: str = ""  # the tool's name as the proof line says it (default: the check's name)
    # The measurements its tests record that a page may quote ({{ measured path check figure }}), with the
    # unit each is written in (snipcheck.model.figures); one key has one unit in every check.
    figures: dict[str, str] = field(default_factory=dict)


# ---- settings shared by several checks ------------------------------------------------------------

BUILD = Record(
    {
        "context": STR,  # build context, relative to snippets/ (default: the Dockerfile's directory)
        "args": MapOf(STR),  # --build-arg values
        "target": STR,  # --target stage
        "platforms": STRS,  # extra platforms to cross-build (data-only base images)
    }
)
RUN = Record(
    {
        "port": INT,
        "health": STR,
        "uid": INT,
        "env": MapOf(STR),
        "files": STRS,
        "shell": STR,
        "static": BOOL,
        "static_binary": STR,
        "ca_bundle": BOOL,
        "zoneinfo": BOOL,
        "max_mb": NUM,
        "stop_timeout": INT,
        "shutdown_logs": STRS,
        "healthcheck": BOOL,
        "writable": BOOL,
        "version_endpoint": BOOL,
        "json": Record({"path": STR, "expect": MapOf(STR)}, required=("path",)),
    },
    defaults={"port": 8080, "health": "/health/live"},  # the chapter's service listens there
)
COMPOSE = Record(
    {
        "files": STRS,  # compose files, relative to the snippet's directory
        "env_file": STR,
        "profiles": MapOf(STRS),  # profile -> services `config --services` must list
        "boot_profiles": STRS,  # profiles enabled when the stack is booted
        "behaviour": one_of("app-stack", "hot-reload"),  # extra behaviour tests (test_app_stack / test_hot_reload)
        "probes": ListOf(
            Record(
                {"service": STR, "port": INT, "path": STR, "status": INT, "contains": STR},
                required=("service", "port", "path"),
            )
        ),
        "hot_reload": Record({"path": STR, "edit": STR, "replace": STR}, required=("path", "edit", "replace")),
        # named volumes that are caches (Go modules, build cache): the test maps them to volumes of the
        # suite that persist between runs, as a developer's volumes persist between `up`s (reported)
        "cache_volumes": STRS,
        # the dependency whose health the service waits for (tests/compose/test_start_order.py)
        "start_order": Record({"service": STR, "waits_for": STR}, required=("service", "waits_for")),
        # what the stack exposes (tests/static/test_compose_exposure.py, snipcheck.rules.exposure)
        "exposure": Record(
            {"public": STRS, "purpose": one_of("development", "production"), "literal_credentials": STR}
        ),
    }
)
SIZE_CLAIM = STR  # the original's estimate, kept beside the measured size in the report
COMPARE_WITH = STR  # another snippet's path, built and measured the same way
DOCKERFILE = STR  # for a .dockerignore: the Dockerfile whose build it filters

IMAGE_SCENARIOS = (
    "single-stage-size",
    "runs-as-root",
    "no-dockerignore",
    "cgo-in-scratch",
    "glibc-in-alpine",
    "secret-in-history",
    "shell-form-sigterm",
    "file-logging",
    "no-sigterm-handling",
)
COMPOSE_SCENARIOS = ("depends-on-no-healthcheck",)

# Keys any entry may carry.
COMMON: dict[str, Spec] = {
    "note": STR,  # a remark for readers of the manifest
    "needs_registry": ListOf(STR, one_or_many=True),  # images only a registry has (Alpine...)
}

CHECKS: dict[str, Check] = {
    # static tier: nothing running
    "hadolint": Check(
        "static",
        ("tests/static/test_hadolint.py",),
        {
            "en": "hadolint at warning threshold; for expect: fails, the rules in hadolint_rules are reported",
            "ru": (
                "hadolint, порог — предупреждения; у примера ошибки должны сработать правила, которые называет манифест"
            ),
        },
        {"hadolint_rules": STRS, "hadolint_note": STR},
        phrase="hadolint",
    ),
    "yamllint": Check(
        "static",
        ("tests/static/test_yamllint.py",),
        {"en": "yamllint with the repository's `.yamllint`", "ru": "yamllint с настройками репозитория (`.yamllint`)"},
    ),
    "compose-config": Check(
        "static",
        ("tests/static/test_compose_config.py", "tests/static/test_compose_exposure.py"),
        {
            "en": "`docker compose config`: no warnings, no unset variables, services per profile; "
            "ports on the loopback unless public, passwords required, no restart at boot in development",
            "ru": "`docker compose config`: без предупреждений и незаданных переменных, сервисы по профилям; "
            "порты только на 127.0.0.1, кроме публичных, пароли обязательны, в разработке без `restart`",
        },
        {"compose": COMPOSE, "env_file": STR, "compose_error": STR},
        label="docker compose config",
    ),
    "kubeconform": Check(
        "static",
        ("tests/static/test_kubeconform.py",),
        {
            "en": "`kubeconform -strict` against offline schemas of several Kubernetes versions",
            "ru": "`kubeconform -strict` по офлайн-схемам нескольких версий Kubernetes",
        },
        {"kubeconform_error": STR},
        phrase="kubeconform",
        figures={"resources": ""},
    ),
    "actionlint": Check(
        "static",
        ("tests/static/test_actionlint.py",),
        {"en": "actionlint (with shellcheck for `run:` blocks)", "ru": "actionlint (и shellcheck для блоков `run:`)"},
        {"actionlint_error": STR},
    ),
    "shellcheck": Check(
        "static",
        ("tests/static/test_shellcheck.py",),
        {"en": "shellcheck on shell snippets", "ru": "shellcheck для shell-фрагментов"},
        {"shellcheck_codes": STRS},
    ),
    "gofmt": Check(
        "static",
        ("tests/static/test_go.py",),
        {"en": "`gofmt -l` reports nothing", "ru": "`gofmt -l` ничего не находит"},
    ),
    "go-vet": Check(
        "static",
        ("tests/static/test_go.py",),
        {
            "en": "`go vet` (fragments: compiled in their own package)",
            "ru": "`go vet` (фрагменты компилируются в собственном пакете)",
        },
        {"vet_error": STR},
        label="go vet",
    ),
    "parse": Check(
        "static",
        ("tests/static/test_parse.py",),
        {
            "en": "parses in its format (TOML, JSON, YAML, SQL)",
            "ru": "разбирается в своём формате (TOML, JSON, YAML, SQL)",
        },
        {"sql_requires": STRS},
        phrase="parse",
    ),
    "consistency": Check(
        "static",
        ("tests/static/test_consistency.py",),
        {
            "en": "cross-file rules: one Go version, pinned base images, ports and names that agree",
            "ru": "правила между файлами: одна версия Go, закреплённые базовые образы, согласованные порты и имена",
        },
        # another Dockerfile (path under snippets/) whose `go build` stage this one repeats exactly, with
        # the same build context and arguments, so that BuildKit compiles the service once for both
        {"teaches_latest": BOOL, "same_build_stage_as": STR},
        implicit=True,
        phrase="name",
    ),
    # service tier: the Go service against real PostgreSQL and Redis
    "go-test": Check(
        "service",
        ("tests/service/test_go_service.py",),
        {"en": "`go test -race` plus integration tests", "ru": "`go test -race` и интеграционные тесты"},
        phrase="go_test",
        figures={"binary_mb": "MB", "binary_stripped_mb": "MB", "binary_stripped_saving_pct": "%"},
    ),
    # images tier: a real Docker engine
    "image-build": Check(
        "images",
        ("tests/images/test_dockerfiles.py",),
        {"en": "`docker buildx build --load` succeeds", "ru": "`docker buildx build --load` проходит"},
        {
            "build": BUILD,
            "layer_cache": Record({"change": STR, "cached": STR}, required=("change", "cached")),
            "size_claim": SIZE_CLAIM,
            "dockerfile": DOCKERFILE,
        },
        phrase="build",
        figures={"image_mb": "MB", "build_seconds": "s"},
    ),
    "image-run": Check(
        "images",
        ("tests/images/test_dockerfiles.py",),
        {
            "en": "the image runs as the text claims (probes, uid, shutdown, size)",
            "ru": "образ работает так, как сказано в тексте (пробы, uid, остановка, размер)",
        },
        {
            "build": BUILD,
            "run": RUN,
            "size_claim": SIZE_CLAIM,
            "compare_with": COMPARE_WITH,
            "measure": ListOf(one_of("binary-size", "start-to-healthy")),
        },
        phrase="run",
        figures={
            "image_mb": "MB",
            "compared_image_mb": "MB",
            "size_budget_mb": "MB",
            "seconds_to_http_200": "s",
            "compared_seconds_to_http_200": "s",
            "seconds_to_healthy": "s",
            "seconds_to_stop": "s",
            "stop_timeout": "s",
            "exit_code": "",
            "uid": "",
            "ca_certs": "",
        },
    ),
    "image-antipattern": Check(
        "images",
        ("tests/images/test_antipatterns.py",),
        {
            "en": "the anti-pattern fails exactly the way the text says",
            "ru": "антипаттерн ломается ровно так, как описано в тексте",
        },
        {
            "scenario": ListOf(one_of(*IMAGE_SCENARIOS), one_or_many=True),
            "build": BUILD,
            "run": RUN,
            "compare_with": COMPARE_WITH,
            "min_ratio": NUM,
            "planted": STRS,
            "excluded": STRS,
            "kept": STRS,
            "dockerfile": DOCKERFILE,
            "secret_arg": STR,
            "secret_stage": STR,
            "secret": Record({"id": STR, "env": STR}, required=("id",)),
            "harness": STR,
            "program": STR,
            "slow_path": STR,
        },
        scenarios=IMAGE_SCENARIOS,
        phrase="antipattern",
        figures={
            "single_stage_mb": "MB",
            "multi_stage_mb": "MB",
            "ratio": "×",
            "seconds_to_stop": "s",
            "stop_timeout": "s",
            "exit_code": "",
            "uid": "",
        },
    ),
    # compose tier
    "compose-up": Check(
        "compose",
        (
            "tests/compose/test_compose_up.py",
            "tests/compose/test_app_stack.py",
            "tests/compose/test_hot_reload.py",
            "tests/compose/test_start_order.py",
        ),
        {
            "en": "`up --wait`, behaviour probes, teardown",
            "ru": "`up --wait`, проверки поведения, остановка без остатков",
        },
        {"compose": COMPOSE},
        phrase="compose_up",
        figures={
            "seconds_to_healthy": "s",
            "app_started_after_db_ready_s": "s",
            "seconds_edit_to_new_response": "s",
            "seconds_to_503_after_redis_stop": "s",
            "seconds_to_200_after_redis_start": "s",
            "restart_count": "",
        },
    ),
    "compose-antipattern": Check(
        "compose",
        ("tests/compose/test_compose_antipatterns.py",),
        {
            "en": "the anti-pattern compose file misbehaves exactly the way the text says",
            "ru": "compose-файл с антипаттерном ведёт себя ровно так, как описано в тексте",
        },
        {"compose": COMPOSE, "scenario": one_of(*COMPOSE_SCENARIOS), "app_service": STR, "db_service": STR},
        scenarios=COMPOSE_SCENARIOS,
        phrase="antipattern",
        figures={"app_started_before_db_ready_s": "s"},
    ),
    # cluster tier: etcd + kube-apiserver on 127.0.0.1
    "kube-apiserver": Check(
        "cluster",
        ("tests/cluster/test_apiserver.py",),
        {
            "en": "`apply --server-side --dry-run=server --validate=strict` by a real API server",
            "ru": "`apply --server-side --dry-run=server --validate=strict` настоящим API-сервером",
        },
        {"apiserver_error": STR},
        phrase="apiserver",
    ),
    # cluster tier, opt-in node (SNIPCHECK_NODE=1): kubelet, kube-proxy, CoreDNS on this machine
    "kube-node": Check(
        "cluster",
        ("tests/cluster/test_node.py",),
        {
            "en": "run on a real node: rollout, Service and DNS, readiness, rolling update under load, limits",
            "ru": "запуск на настоящем узле: раскатка, Service и DNS, readiness, обновление под нагрузкой, лимиты",
        },
        phrase="node",
    ),
}


def allowed_settings(checks: list[str]) -> dict[str, Spec]:
    """Every key an entry with these checks may carry, with its spec."""
    allowed = dict(COMMON)
    for name in [*checks, *(n for n, c in CHECKS.items() if c.implicit)]:
        allowed.update(CHECKS[name].settings)
    return allowed


def what(check: str, lang: str) -> str:
    """The check's one-line description in the page's language."""
    return CHECKS[check].what[lang]


def readers(key: str) -> list[str]:
    """The checks that read a settings key (for error messages)."""
    return sorted(name for name, c in CHECKS.items() if key in c.settings)
