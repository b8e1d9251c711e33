"""The vocabulary of checks a manifest may name: tier, implementing tests, and the settings each reads.

A check is implemented by the test modules listed in `tests`; each test marked
`@pytest.mark.check(NAME)` records a result for every snippet it covers (see tests/conftest.py).
At the end of a run every declared (snippet, check) pair whose tier ran must have a result, so a
check cannot be declared and silently never run.

`settings` declares every manifest key the check reads, with its type (snipcheck.schema). The
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
    what: str
    settings: dict[str, Spec] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()  # for anti-pattern checks: the scenario names the tests implement
    implicit: bool = False  # runs on every snippet it concerns without being declared; its keys fit any entry


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
    }
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
        "hadolint at warning threshold; for expect: fails, the rules in hadolint_rules are reported",
        {"hadolint_rules": STRS, "hadolint_note": STR},
    ),
    "yamllint": Check("static", ("tests/static/test_yamllint.py",), "yamllint with the repository's .yamllint"),
    "compose-config": Check(
        "static",
        ("tests/static/test_compose_config.py",),
        "docker compose config: no warnings, no unset variables, services per profile",
        {"compose": COMPOSE, "env_file": STR, "compose_error": STR},
    ),
    "kubeconform": Check(
        "static",
        ("tests/static/test_kubeconform.py",),
        "kubeconform -strict against offline schemas of several Kubernetes versions",
        {"kubeconform_error": STR},
    ),
    "actionlint": Check(
        "static",
        ("tests/static/test_actionlint.py",),
        "actionlint (with shellcheck for run: blocks)",
        {"actionlint_error": STR},
    ),
    "shellcheck": Check(
        "static", ("tests/static/test_shellcheck.py",), "shellcheck on shell snippets", {"shellcheck_codes": STRS}
    ),
    "gofmt": Check("static", ("tests/static/test_go.py",), "gofmt -l reports nothing"),
    "go-vet": Check(
        "static", ("tests/static/test_go.py",), "go vet (fragments: compiled in their own package)", {"vet_error": STR}
    ),
    "parse": Check(
        "static",
        ("tests/static/test_parse.py",),
        "parses in its format (TOML, JSON, YAML, SQL)",
        {"sql_requires": STRS},
    ),
    "consistency": Check(
        "static",
        ("tests/static/test_consistency.py",),
        "cross-file rules: one Go version, pinned base images, ports and names that agree",
        # another Dockerfile (path under snippets/) whose `go build` stage this one repeats exactly, with
        # the same build context and arguments, so that BuildKit compiles the service once for both
        {"teaches_latest": BOOL, "same_build_stage_as": STR},
        implicit=True,
    ),
    # service tier: the Go service against real PostgreSQL and Redis
    "go-test": Check("service", ("tests/service/test_go_service.py",), "go test -race plus integration tests"),
    # images tier: a real Docker engine
    "image-build": Check(
        "images",
        ("tests/images/test_dockerfiles.py",),
        "docker buildx build --load succeeds",
        {
            "build": BUILD,
            "layer_cache": Record({"change": STR, "cached": STR}, required=("change", "cached")),
            "size_claim": SIZE_CLAIM,
            "dockerfile": DOCKERFILE,
        },
    ),
    "image-run": Check(
        "images",
        ("tests/images/test_dockerfiles.py",),
        "the image runs as the text claims (probes, uid, shutdown, size)",
        {
            "build": BUILD,
            "run": RUN,
            "size_claim": SIZE_CLAIM,
            "compare_with": COMPARE_WITH,
            "measure": ListOf(one_of("binary-size", "start-to-healthy")),
        },
    ),
    "image-antipattern": Check(
        "images",
        ("tests/images/test_antipatterns.py",),
        "the anti-pattern fails exactly the way the text says",
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
    ),
    # compose tier
    "compose-up": Check(
        "compose",
        ("tests/compose/test_compose_up.py", "tests/compose/test_app_stack.py", "tests/compose/test_hot_reload.py"),
        "up --wait, behaviour probes, teardown",
        {"compose": COMPOSE},
    ),
    "compose-antipattern": Check(
        "compose",
        ("tests/compose/test_compose_antipatterns.py",),
        "the anti-pattern compose file misbehaves exactly the way the text says",
        {"compose": COMPOSE, "scenario": one_of(*COMPOSE_SCENARIOS), "app_service": STR, "db_service": STR},
        scenarios=COMPOSE_SCENARIOS,
    ),
    # cluster tier: etcd + kube-apiserver on 127.0.0.1
    "kube-apiserver": Check(
        "cluster",
        ("tests/cluster/test_apiserver.py",),
        "server-side apply --dry-run=server --validate=strict by a real API server",
        {"apiserver_error": STR},
    ),
    # cluster tier, opt-in node (SNIPCHECK_NODE=1): kubelet, kube-proxy, CoreDNS on this machine
    "kube-node": Check(
        "cluster",
        ("tests/cluster/test_node.py",),
        "run on a real node: rollout, Service and DNS, readiness, rolling update under load, limits",
    ),
}


def allowed_settings(checks: list[str]) -> dict[str, Spec]:
    """Every key an entry with these checks may carry, with its spec."""
    allowed = dict(COMMON)
    for name in [*checks, *(n for n, c in CHECKS.items() if c.implicit)]:
        allowed.update(CHECKS[name].settings)
    return allowed


# What each check does, for the proof lines of the Russian pages (Check.what is the English one).
WHAT_RU: dict[str, str] = {
    "hadolint": "hadolint с порогом warning; для expect: fails выдаются правила из hadolint_rules",
    "yamllint": "yamllint с настройками репозитория (.yamllint)",
    "compose-config": "docker compose config: без предупреждений и незаданных переменных, сервисы по профилям",
    "kubeconform": "kubeconform -strict по офлайн-схемам нескольких версий Kubernetes",
    "actionlint": "actionlint (и shellcheck для блоков run:)",
    "shellcheck": "shellcheck для shell-фрагментов",
    "gofmt": "gofmt -l ничего не находит",
    "go-vet": "go vet (фрагменты компилируются в собственном пакете)",
    "parse": "разбирается в своём формате (TOML, JSON, YAML, SQL)",
    "consistency": "правила между файлами: одна версия Go, закреплённые базовые образы, согласованные порты и имена",
    "go-test": "go test -race и интеграционные тесты",
    "image-build": "docker buildx build --load проходит",
    "image-run": "образ работает так, как сказано в тексте (пробы, uid, остановка, размер)",
    "image-antipattern": "антипаттерн ломается ровно так, как описано в тексте",
    "compose-up": "up --wait, проверки поведения, остановка без остатков",
    "compose-antipattern": "compose-файл с антипаттерном ведёт себя ровно так, как описано в тексте",
    "kube-apiserver": "server-side apply --dry-run=server --validate=strict настоящим API-сервером",
    "kube-node": "запуск на настоящем узле: раскатка, Service и DNS, readiness, обновление под нагрузкой, лимиты",
}


def what(check: str, lang: str) -> str:
    """The check's one-line description in the page's language."""
    return WHAT_RU[check] if lang == "ru" else CHECKS[check].what


def readers(key: str) -> list[str]:
    """The checks that read a settings key (for error messages)."""
    return sorted(name for name, c in CHECKS.items() if key in c.settings)
